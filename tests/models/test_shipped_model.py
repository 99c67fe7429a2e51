"""The trained model that ships with the package: it loads with no arguments, has the spec's shape, and its
output follows the audio it is given (skipped only in a checkout without shipped weights)."""
import pytest
import torch

from audio2video.models import AudioToVideoNet, ModelConfig, load_model
from audio2video.models import has_shipped_model

pytestmark = pytest.mark.skipif(not has_shipped_model(), reason="no trained weights ship in this checkout")


def test_shipped_model_is_the_spec_model():
    model = load_model()
    assert isinstance(model, AudioToVideoNet) and not model.training
    assert model.config.to_dict() == ModelConfig().to_dict()
    assert sum(p.numel() for p in model.parameters()) == 8_236_611


def test_shipped_model_output_depends_on_its_audio():
    """On held-out procedural clips, the error against another clip's truth exceeds the error against its own."""
    from audio2video.data.procedural import engine_config_for, heldout_set

    model = load_model()
    ds = heldout_set(4, engine_config_for(model.config, "audio"))
    audio, video = map(torch.stack, zip(*(ds[k] for k in range(4))))
    with torch.no_grad():
        pred = model(audio)
    right = (pred - video).pow(2).mean()
    shuffled = (pred.roll(1, 0) - video).pow(2).mean()
    assert shuffled / right > 1.2


def test_generate_uses_the_shipped_model_by_default(tmp_path):
    from audio2video.cli import main
    from audio2video.io.media import read_video_info
    from conftest import write_audio

    src = write_audio(tmp_path / "song.ogg", seconds=1.5)
    assert main(["generate", str(src), "-o", str(tmp_path / "song.mp4"), "-q"]) == 0
    assert read_video_info(tmp_path / "song.mp4")["frames"] == 45
