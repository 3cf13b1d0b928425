"""GPU checks (run on a CUDA machine; nothing in the tests needs one).

    python bench/gpu_check.py [--out DIR]

1. On-device crappification (`CrappifyBatch` in `restoration_dls(on_device=True)`, nvJPEG): a batch's speed and range.
2. `nogan` end to end on CUDA in fp16 (fastai `MixedPrecision`) and bf16 autocast: every stage, finite losses, files.
3. GAN-phase speed: the course notebook's set-up vs ours, on the bundled photos.
4. A one-minute WGAN at 64 px; its sample grid goes to `--out`.
"""
import argparse, sys, time, warnings, shutil, tempfile
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root)); sys.path.insert(0, str(root/'bench'))
from lesson7ext.data import restoration_dls, sample_photos, extra_training_images
from lesson7ext.gan import nogan, gan_learner, wgan
from lesson7ext.train import final_metrics
from gan import course_gan, steps_per_s

def main():
    p = argparse.ArgumentParser(); p.add_argument('--out', default='gpu_out'); a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    assert torch.cuda.is_available(), "no CUDA device"
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    photos = sample_photos() + extra_training_images()
    # 1. on-device crappify
    dls = restoration_dls(photos, 'lesson7', size=128, bs=32, on_device=True, epoch_size=512)
    x, y = dls.one_batch(); torch.cuda.synchronize()
    t = time.time(); n = 0
    for xb, yb in dls.train: n += len(xb)
    torch.cuda.synchronize(); dt = time.time() - t
    print(f"1. on-device crappify: batch {tuple(x.shape)} on {x.device}, {n / dt:.0f} img/s (incl. loading), "
          f"x range [{float(x.min()):.2f}, {float(x.max()):.2f}], mean |x-y| {float((x - y).abs().mean()):.3f}", flush=True)
    # 2. nogan in fp16 and bf16
    for prec in ('fp16', 'bf16'):
        work = Path(tempfile.mkdtemp())
        t = time.time()
        learn = nogan(photos, work, size=128, bs=16, gen_minutes=0.25, crit_minutes=0.25, gan_iters=60, ckpt_every=20, precision=prec)
        vals = final_metrics(learn)  # the last epoch's losses and metrics, by name
        ok = bool(vals) and all(np.isfinite(list(vals.values()))) and (work/'generator_gan.safetensors').exists() and len(list((work/'checkpoints').glob('gen_*'))) == 3
        print(f"\n2. nogan {prec}: {time.time() - t:.0f} s, last values { {k: round(v, 3) for k, v in vals.items()} }, files ok: {ok}", flush=True)
        if prec == 'bf16': shutil.copy(work/'samples'/'samples_last.png', out/'nogan_samples_bf16.png')
    # 3. GAN-phase speed
    s_ours = steps_per_s(gan_learner(learn.gen_learn, learn.crit_learn), n=30, warm=5)
    s_course = steps_per_s(course_gan(photos), n=30, warm=5)
    print(f"\n3. GAN phase steps/s: course notebook (resnet34 U-Net, gan_critic nf=128, bs 8, fp32) {s_course:.2f} = {8 * s_course:.0f} samples/s; "
          f"ours (bs 16, bf16) {s_ours:.2f} = {16 * s_ours:.0f} samples/s; {16 * s_ours / (8 * s_course):.1f}x", flush=True)
    # 4. WGAN
    t = time.time(); wl = wgan(None, out/'wgan', minutes=1.0)
    shutil.copy(out/'wgan'/'samples_last.png', out/'wgan_samples.png')
    print(f"\n4. wgan 64 px: {time.time() - t:.0f} s, {len(wl.recorder.losses)} batches", flush=True)

if __name__ == '__main__': main()
