"""How well a video follows its sound: one module per family of metrics, and the registry that defines each
metric's direction and aggregation once, for training's validation and for evaluation alike.

| metric | definition | better |
| --- | --- | --- |
| mse | mean squared pixel error against the ground truth | lower (0 = identical) |
| psnr | per frame 10·log10(1 / MSE_t), averaged over frames; a frame predicted exactly scores +inf | higher |
| ssim | per frame SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, each colour channel, valid region), averaged over frames | higher (1 = identical) |
| temporal_error | mean squared difference between the predicted and true frame-to-frame differences | lower (0 = same motion) |
| flicker_index | mean absolute frame difference of the prediction ÷ that of the ground truth | closer to 1 (> 1 flickers, < 1 too still) |
| shuffle_gap | MSE of each clip's truth against another clip's prediction ÷ MSE against its own | higher (1.0 = the audio is ignored) |
| silence_response | mean visual change inside silent segments ÷ mean visual change while sound plays | lower (< 1: calmer in silence) |
| av_align | AV-Align (Yariv et al. 2024), the variant in `metrics.av_align` | higher, in [0, 1] |

Videos are float tensors in [0, 1], (T, 3, H, W) for one clip or (B, T, 3, H, W) for a batch.
"""
from .audio_dependence import MOTION_FLOOR, SilenceStats, shuffle_gap, silence_ratio, silence_response, silence_stats
from .av_align import (AV_ALIGN_RATE, FARNEBACK, PEAK_THRESHOLD, AVAlign, audio_peak_times, av_align, av_align_file,
                       av_align_score, match_peaks, motion_curve, onset_envelope, require_eval_dependencies,
                       video_peak_times)
from .reconstruction import frame_mse, mse, psnr, ssim
from .registry import (AGGREGATION_NOTE, METRIC_NAMES, METRICS, Metric, Scorer, aggregate, clips_counted, goodness,
                       metric, per_clip)
from .temporal import flicker_index, frame_change, temporal_error

__all__ = ["AGGREGATION_NOTE", "AVAlign", "AV_ALIGN_RATE", "FARNEBACK", "METRICS", "METRIC_NAMES", "MOTION_FLOOR",
           "Metric", "PEAK_THRESHOLD", "Scorer", "SilenceStats", "aggregate", "audio_peak_times", "av_align",
           "av_align_file", "av_align_score", "clips_counted", "flicker_index", "frame_change", "frame_mse",
           "goodness", "match_peaks", "metric", "motion_curve", "mse", "onset_envelope", "per_clip", "psnr",
           "require_eval_dependencies", "shuffle_gap", "silence_ratio", "silence_response", "silence_stats", "ssim",
           "temporal_error", "video_peak_times"]
