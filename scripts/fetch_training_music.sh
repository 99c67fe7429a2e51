#!/usr/bin/env bash
# Fetch the real music the shipped model trains on: eight Debian game-music packages whose licences allow it.
#   scripts/fetch_training_music.sh [DEST]        (default: data/music; needs apt-get, dpkg and unzip)
# Each package is downloaded (apt-get download: no install, no root needed for that step once the package
# lists are current) and unpacked with dpkg -x into DEST/<package>/; .pk3 archives (zip) are unpacked beside
# themselves; each package's copyright file is kept as DEST/<package>/copyright. Then train with
#   --set 'data.music=["DEST"]'
# Only these packages: other Debian music is kept for evaluation, so never train or tune on it.
set -euo pipefail
DEST=${1:-data/music}
PACKAGES=(singularity-music warzone2100-music ufoai-music hyperrogue-music nexuiz-music planetblupi-music-ogg
          asc-music fb-music-high)
mkdir -p "$DEST/.debs"
cd "$DEST/.debs"
for p in "${PACKAGES[@]}"; do
    ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p"
done
cd - >/dev/null
for p in "${PACKAGES[@]}"; do
    deb=$(ls "$DEST/.debs/${p}"_*.deb | head -n 1)
    out="$DEST/$p"
    [ -d "$out/usr" ] || { mkdir -p "$out.tmp" && dpkg -x "$deb" "$out.tmp" && mv "$out.tmp" "$out"; }
    cp "$out/usr/share/doc/$p/copyright" "$out/copyright"
    find "$out" -name '*.pk3' | while read -r pk3; do
        dir="${pk3%.pk3}"
        [ -d "$dir" ] || { unzip -q -o "$pk3" -d "$dir.tmp" && mv "$dir.tmp" "$dir"; }
    done
    echo "$p: $(find "$out" -type f \( -iname '*.ogg' -o -iname '*.opus' -o -iname '*.mp3' -o -iname '*.flac' \
        -o -iname '*.wav' -o -iname '*.xm' \) | wc -l) audio files"
done
