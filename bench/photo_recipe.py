"""Which loss trains the blind `photo` mixture: L1, MSE or `psnr_loss`, the same minutes each, in one run.

    python bench/photo_recipe.py [--minutes 3] [--runs l1@realistic,mse@realistic,psnr@realistic] [--data ../shared/data]

Each run `LOSS@INIT` trains `RestoreUnet(factor=4, nf=48)` on the `photo` crappifier (the photos of `tools/pretrain.py
photo`, same split) with loss LOSS (l1, mse, psnr: `losses.psnr_loss`, minus the mean per-sample PSNR) from the shipped model
INIT or from scratch (`none`), for the same wall-clock minutes at the same peak lr, then restores 4 of the held-out Sun80 photos (`tools/pretrain.py`'s `eval_sun80`, never trained on) on a few rows
of `protocols.photo_inputs`. Printed per loss: mean and worst gain per row, the share of `dec0`'s outputs that are zero (a
dead last block) and the head's mean absolute weight (0 at the identity).
"""
import argparse, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import torch
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root)); sys.path.insert(0, str(root/'tools'))
from lesson7ext.data import restoration_dls
from lesson7ext.train import restoration_learner, fit_budget
from lesson7ext.restore import restore
from lesson7ext.protocols import photo_grid
import pretrain

LOSSES = pretrain.LOSSES

ROWS = ['clean', 'jpeg q30', 'jpeg q80', 'noise σ15', 'blur σ1.2', 'scan']

def dead_share(model, x):
    "Share of zero outputs of the last decoder block on batch `x`."
    out = {}
    h = model.dec0.register_forward_hook(lambda m, i, o: out.update(o=o))
    with torch.no_grad(): model.eval()(x)
    h.remove()
    return float((out['o'] <= 0).float().mean())

def one(run, a, train, valid, evals):
    loss, init = run.split('@')
    torch.manual_seed(0)
    dls = restoration_dls(train, 'photo', size=128, bs=16, valid_files=valid, epoch_size=1600, align=a.align)
    init = None if init == 'none' else init
    learn = restoration_learner(dls, loss_func=LOSSES[loss], init=init, guard=False, **({} if init else dict(factor=4, nf=48)))
    t0 = time.time()
    fit_budget(learn, a.minutes, lr=a.lr)
    m = learn.model.eval()
    g = photo_grid(lambda im: restore(im, m), evals, ROWS)
    return dict(grid=g, dead=dead_share(m, dls.valid.one_batch()[0]), head=float(m.head.weight.abs().mean()), minutes=(time.time() - t0) / 60)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--minutes', type=float, default=3.)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--align', type=int, default=1, help='training crops start on multiples of this (16: the JPEG grid)')
    p.add_argument('--runs', default='l1@realistic,mse@realistic,psnr@realistic')
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--work', default=str(Path.home()/'.cache'/'lesson7ext'/'pretrain'))
    a = p.parse_args()
    train, valid = pretrain.train_files(a.data, a.work, hold_out=True)
    evals = pretrain.eval_files(a.data, a.work)[:4]
    res = {r: one(r, a, train, valid, evals) for r in a.runs.split(',')}
    print(f"\n## Loss and start for the photo mixture: {a.minutes:g} min each, lr {a.lr:g}, crops aligned to {a.align}, {torch.get_num_threads()} threads; "
          f"held-out Sun80 ({', '.join(f.stem for f in evals)})\n")
    print('| row | input dB | ' + ' | '.join(f'{l} gain (worst)' for l in res) + ' |')
    print('|---|---|' + '---|' * len(res))
    for row in ROWS:
        first = next(iter(res.values()))['grid'][row]
        print(f"| {row} | {first['input']:.2f} | " + ' | '.join(f"{r['grid'][row]['gain']:+.2f} ({r['grid'][row]['worst']:+.2f})" for r in res.values()) + ' |')
    print('| dec0 outputs <= 0 | | ' + ' | '.join(f"{r['dead']:.1%}" for r in res.values()) + ' |')
    print('| head mean abs weight | | ' + ' | '.join(f"{r['head']:.2e}" for r in res.values()) + ' |')

if __name__ == '__main__': main()
