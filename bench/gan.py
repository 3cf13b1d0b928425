"""Benchmark: the NoGAN pipeline on CBSD68, and GAN-phase speed against the course notebook's set-up.

    python bench/gan.py [--gen-minutes 4] [--crit-minutes 2] [--gan-minutes 4] [--data ../shared/data] [--out bench_gan_out]

One run: `nogan` on CBSD68 (lesson7 crappifier, 128 px crops) with the budgets given; the critic's validation
accuracy after pretraining; Y-PSNR and SSIM on CSet5 (border 4) for bicubic, the pretrained generator and the
generator after the GAN phase, with edge sharpness (mean gradient magnitude of Y) against the originals'. Then
GAN-phase speed, timed over the same number of steps: (a) fastai's `GANLearner.from_learners` as the course notebook
sets it up (`unet_learner(resnet34)` generator with the lesson's options and feature loss, `gan_critic()` with 128
filters, batch 8, fp32) and (b) ours (`gan_learner` on `restoration_learner` + `critic_learner` as `nogan` builds
them). Writes `cset5_grid.png` (bicubic | generator | GAN | original) to `--out`.
"""
import argparse, sys, time, warnings
from functools import partial
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from lesson7ext.protocols import heldout_pairs, heldout_scores
from lesson7ext.losses import FeatureLoss
from lesson7ext.data import restoration_dls, image_grid
from lesson7ext.restore import restore
from lesson7ext.zoo import load_restorer
from lesson7ext.train import final_metrics
from lesson7ext.gan import nogan, gan_learner

BORDER = 4

def scores(model, pairs):
    "Mean Y-PSNR, SSIM and edge sharpness relative to the original of `model` (`None`: bicubic) on `pairs`, by `protocols.heldout_scores`."
    r = heldout_scores((lambda im: im) if model is None else (lambda im: restore(im, model)), pairs)
    rows = r['per_image']['baseline' if model is None else 'model']
    sharp = np.mean([x['sharpness'] / o for x, o in zip(rows, r['original_sharpness'])])
    m = r['baseline' if model is None else 'model']
    return m['psnr'], m['ssim'], float(sharp)

def steps_per_s(learn, n=12, warm=3):
    "GAN-phase steps/s over `n` timed training batches (after `warm`)."
    from fastai.callback.core import Callback, CancelFitException
    class Timer(Callback):
        order = 99
        def before_fit(self): self.k, self.t0 = 0, None
        def after_batch(self):
            if not self.training: return
            self.k += 1
            if self.k == warm: self.t0 = time.time()
            if self.k == warm + n: self.dt = time.time() - self.t0; raise CancelFitException()
    t = Timer()
    with learn.no_bar(), learn.no_logging(): learn.fit(100, 1e-4, cbs=t)
    return n / t.dt

def course_gan(source, bs=8, size=128):
    "The course notebook's GAN learner (lesson7-superres-gan, ported to fastai 2.8) on `source` (folder or files)."
    from fastai.vision.all import unet_learner, resnet34, NormType, Learner, Adam
    from fastai.vision.gan import GANLearner, AdaptiveGANSwitcher, GANDiscriminativeLR, gan_critic, AdaptiveLoss, accuracy_thresh_expand
    import torch.nn as nn
    dls = restoration_dls(source, 'lesson7', size=size, bs=bs)
    gen = unet_learner(dls, resnet34, loss_func=FeatureLoss(), blur=True, norm_type=NormType.Weight, self_attention=True,
                       y_range=(-3., 3.), wd=1e-3, pretrained=False, n_out=3)
    crit = Learner(dls, gan_critic(), metrics=accuracy_thresh_expand, loss_func=AdaptiveLoss(nn.BCEWithLogitsLoss()), wd=1e-3)
    switcher = AdaptiveGANSwitcher(critic_thresh=0.65)
    return GANLearner.from_learners(gen, crit, weights_gen=(1., 50.), show_img=False, switcher=switcher,
                                    opt_func=partial(Adam, mom=0.), cbs=GANDiscriminativeLR(mult_lr=5.), wd=1e-3)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--out', default='bench_gan_out')
    p.add_argument('--gen-minutes', type=float, default=4.)
    p.add_argument('--crit-minutes', type=float, default=2.)
    p.add_argument('--gan-minutes', type=float, default=4.)
    p.add_argument('--gan-lr', type=float, default=1e-4)
    p.add_argument("--weight-pixel", type=float, default=10., help="weights_gen = (1, this); the lesson uses 50, which barely moves in minutes on a CPU")
    a = p.parse_args()
    out = Path(a.out)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    print(f"device: {dev} ({torch.cuda.get_device_name() if dev == 'cuda' else f'{torch.get_num_threads()} threads'})")
    t0 = time.time()
    learn = nogan(Path(a.data)/'CBSD68', out, 'lesson7', size=128, bs=16, gen_minutes=a.gen_minutes, crit_minutes=a.crit_minutes,
                  gan_minutes=a.gan_minutes, gan_lr=a.gan_lr, weights_gen=(1., a.weight_pixel), ckpt_every=100)
    total = time.time() - t0
    crit_acc = final_metrics(learn.crit_learn).get('accuracy_thresh_expand', float('nan'))
    pairs = heldout_pairs(Path(a.data)/'CSet5', 'lesson7')
    gen, ganm = load_restorer(out/'generator.safetensors'), load_restorer(out/'generator_gan.safetensors')
    rows = [('bicubic', scores(None, pairs)), ('generator (pretrained)', scores(gen, pairs)), ('generator after GAN phase', scores(ganm, pairs))]
    ups, hrs = [p[1] for p in pairs], [p[2] for p in pairs]
    g_out, a_out = [restore(u, gen) for u in ups], [restore(u, ganm) for u in ups]
    image_grid([[u, g, x, h] for u, g, x, h in zip(ups, g_out, a_out, hrs)], ['bicubic', 'generator', 'GAN', 'original'], height=256).save(out/'cset5_grid.png')
    print(f"\nNoGAN on CBSD68 ({a.gen_minutes:g} + {a.crit_minutes:g} + {a.gan_minutes:g} min budgets, {total / 60:.1f} min in all); "
          f"critic validation accuracy after pretraining: {crit_acc:.3f}; GAN lr {a.gan_lr:g}, weights_gen (1, {a.weight_pixel:g})")
    print("| CSet5 (Y, border 4)          | PSNR dB | SSIM   | sharpness / original's |\n|------------------------------|---------|--------|------------------------|")
    for n, (ps, ss, sh) in rows: print(f"| {n:28s} | {ps:7.2f} | {ss:.4f} | {sh:22.3f} |")
    print(f"grid: {out/'cset5_grid.png'}")
    # speed of the GAN phase
    ours = gan_learner(learn.gen_learn, learn.crit_learn)
    s_ours = steps_per_s(ours)
    course = course_gan(Path(a.data)/'CBSD68')
    s_course = steps_per_s(course)
    print("\n| GAN phase, same machine               | batch | steps/s | samples/s |\n|---------------------------------------|-------|---------|-----------|")
    print(f"| (a) course notebook (resnet34, nf=128) |     8 | {s_course:7.2f} | {8 * s_course:9.1f} |")
    print(f"| (b) lesson7ext nogan                   |    16 | {s_ours:7.2f} | {16 * s_ours:9.1f} |")
    print(f"(b) vs (a): {16 * s_ours / (8 * s_course):.1f}x samples/s")

if __name__ == '__main__': main()
