"""x4 super-resolution (issue 41): which net, and which training recipe, learns most per CPU minute.

    python bench/sr_recipe.py [--minutes 5] [--runs today,rlfn,naf,...] [--data ../shared/data]

Each run trains from scratch in its own process, for the same CPU minutes (`tools/pretrain.py`'s `cpu_clock`: the CPU time
the run was given, so another job on the machine does not eat it), on the photos of `tools/pretrain.py x4` (CBSD68, BSDS500
but the 10 `eval_bsds` photos, Sun80 downscaled but the 10 `eval_sun80` photos, the bundled ones; never Set5), then scores
Set5 (`../shared/data/CSet5`, Y-PSNR, border 4, the benchmarks' bicubic inputs: `protocols.heldout_pairs(..., 'x4')`) and
4 of the held-out BSDS500 photos, whole, in fp32.

Runs: `today` is the shipped `x4`'s net and recipe (`RestoreUnet(factor=4, nf=48)` on the bicubic upscale, 192-px crops,
batch 8, one cycle, L1); `rlfn` and `naf` are `zoo.LrSrNet` with RLFN's blocks or NAF blocks on the small image (48-px input
crops, batch 16, one cycle, L1). The recipe runs change one thing of `rlfn`'s (or `--base`'s) recipe each: `prog` small-to-large
crops (`train.CropSchedule`: 32, 48, 64 px of input from 0, 50 %, 80 % of the budget), `linear` the learning rate decayed
linearly to zero, `mse` and `psnr` the loss (`losses.psnr_loss`), `all` the winners together (given with `--all`).
Columns: parameters, GFLOP per output megapixel (forward, `torch.utils.flop_counter`), seconds per output MP (bf16,
channels-last, this machine's threads, a 1-MP output), training samples/s, steps, Set5 and BSDS dB.
"""
import argparse, json, subprocess, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import torch
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root)); sys.path.insert(0, str(root/'tools')); sys.path.insert(0, str(root/'bench'))

ARCHS = dict(today=('RestoreUnet', dict(factor=4, nf=48)), rlfn=('LrSrNet', dict(nf=48, n_blocks=6, block='rlfb')),
             naf=('LrSrNet', dict(nf=64, n_blocks=8, block='naf')), rlfn_small=('LrSrNet', dict(nf=32, n_blocks=4, block='rlfb')),
             nafu=('NafUnet', dict(factor=1, scale=4, nf=32, blocks=(1, 1, 4))), nafu48=('NafUnet', dict(factor=1, scale=4, nf=48, blocks=(1, 2, 4))),
             resu=('RestoreUnet', dict(factor=1, scale=4, nf=48)))
BASE = dict(size=192, bs=16, schedule='one_cycle', loss='l1', lr=2e-3, sizes=None)
CHANGES = dict(prog=dict(sizes=((128, 192, 256), (0., 0.5, 0.8))), linear=dict(schedule='linear'), mse=dict(loss='mse'), psnr=dict(loss='psnr'))
PUBLISHED = [('bicubic', 28.42, 'EDSR paper, Table 2'), ('SRCNN', 30.48, 'Dong et al. 2016'), ('VDSR', 31.35, 'Kim et al. 2016'),
             ('IMDN', 32.21, 'Hui et al. 2019'), ('RLFN', 32.24, 'Kong et al. 2022')]

def recipe(run, base, all_changes):
    "`(arch, settings)` of run `run`: an architecture with the base recipe, or the base architecture with one change (or `all`)."
    if run in ARCHS: return run, dict(BASE, **(dict(size=192, bs=8, lr=3e-3) if run == 'today' else {}))
    if run == 'all': return base, dict(BASE, **{k: v for c in all_changes for k, v in CHANGES[c].items()})
    return base, dict(BASE, **CHANGES[run])

def build(arch):
    import lesson7ext.zoo as zoo
    name, kw = ARCHS[arch]
    return getattr(zoo, name)(**kw)

def scores(model, data):
    "Set5 and 4 held-out BSDS500 photos, x4 Y-PSNR (border 4), the whole image in fp32."
    import pretrain
    from lesson7ext.protocols import heldout_pairs, heldout_scores
    from lesson7ext.restore import restore
    apply = lambda im: restore(im, model, scale=4, tile=None, precision='fp32')
    s5 = heldout_scores(apply, heldout_pairs(Path(data)/'CSet5', 'x4'))
    bsds = heldout_scores(apply, heldout_pairs(pretrain.eval_bsds(data)[:4], 'x4'))
    return dict(set5=s5['model']['psnr'], set5_bicubic=s5['baseline']['psnr'], bsds=bsds['model']['psnr'], bsds_bicubic=bsds['baseline']['psnr'])

def one(run, base, all_changes, minutes, out, data, work):
    "One run in this process: train, score, write JSON to `out`."
    import pretrain
    from photo_training import Speed, cost
    from lesson7ext.data import restoration_dls
    from lesson7ext.train import restoration_learner, fit_budget, CropSchedule
    arch, s = recipe(run, base, all_changes)
    torch.manual_seed(0)
    train, valid = pretrain.train_files(data, work, hold_out=True, bsds=True)
    model = build(arch)
    small = getattr(model, 'upscales', 1) > 1
    dls = restoration_dls(train, None, size=s['size'], bs=s['bs'], scale=4, valid_files=valid[:8], epoch_size=100_000, lr_input=small, align=4)
    learn = restoration_learner(dls, model.train(), loss_func=pretrain.LOSSES[s['loss']], guard=False)
    sp, cbs = Speed(), []
    if s['sizes']: cbs.append(CropSchedule(*s['sizes']))
    t0 = time.time()
    fit_budget(learn, minutes, lr=s['lr'], cbs=[sp] + cbs, clock=pretrain.cpu_clock, schedule=s['schedule'])
    m = learn.model.float().eval().to(memory_format=torch.contiguous_format)
    json.dump(dict(run=run, arch=arch, recipe=s, samples_s=sp.rate(), steps=learn.train_iter, wall_minutes=(time.time() - t0) / 60,
                   **scores(m, data), **cost(build(arch))), open(out, 'w'))

def table(res, minutes):
    print(f"\n## x4: {minutes:g} CPU minutes each from scratch, {torch.get_num_threads()} threads ({__import__('pretrain').cpu_name()})\n")
    print('| run | net | recipe | params | GFLOP/out MP | s/out MP | samples/s | steps | Set5 dB | BSDS (4) dB |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in res:
        if 'error' in r: print(f"| {r['run']} | failed: {r['error']} |"); continue
        s = r['recipe']
        rc = f"{s['size'] if not s['sizes'] else '→'.join(map(str, s['sizes'][0]))} px, bs {s['bs']}, {s['schedule']}, {s['loss']}, lr {s['lr']:g}"
        print(f"| {r['run']} | {ARCHS[r['arch']][0]}({', '.join(f'{k}={v}' for k, v in ARCHS[r['arch']][1].items())}) | {rc} | {r['params'] / 1e6:.2f}M | {r['gflop_mp']:.0f} | {r['s_mp']:.3f} | "
              f"{r['samples_s']:.1f} | {r['steps']} | {r['set5']:.2f} | {r['bsds']:.2f} |")
    if res and 'set5_bicubic' in res[0]: print(f"| bicubic | | | | | | | | {res[0]['set5_bicubic']:.2f} | {res[0]['bsds_bicubic']:.2f} |")
    print('\nPublished, Set5 x4 Y-PSNR (their papers, trained for days on DIV2K): ' + '; '.join(f"{n} {v:.2f} ({c})" for n, v, c in PUBLISHED))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--minutes', type=float, default=5.)
    p.add_argument('--runs', default='today,rlfn,naf,prog,linear,mse,psnr')
    p.add_argument('--base', default='rlfn', help='the architecture the recipe runs change')
    p.add_argument('--all', default='', help='the changes `all` combines, comma-separated')
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--work', default=str(Path.home()/'.cache'/'lesson7ext'/'pretrain'))
    p.add_argument('--out', default=str(root/'bench'/'results'/'sr_recipe'), help="each run's numbers, kept (a rerun does the missing ones)")
    p.add_argument('--one', nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    changes = [c for c in a.all.split(',') if c]
    if a.one: return one(a.one[0], a.base, changes, a.minutes, a.one[1], a.data, a.work)
    d, res = Path(a.out), []
    d.mkdir(parents=True, exist_ok=True)
    for n in a.runs.split(','):
        arch, s = recipe(n, a.base, changes)
        f = d/f"{n}@{arch}@{a.minutes:g}{'@' + '+'.join(changes) if n == 'all' else ''}.json"  # a finished run is kept: a rerun does only the missing ones
        if not f.exists():
            r = subprocess.run([sys.executable, __file__, '--one', n, str(f), '--minutes', str(a.minutes), '--base', a.base, '--all', a.all,
                                '--data', a.data, '--work', a.work], capture_output=True, text=True)
            if r.returncode: f.write_text(json.dumps(dict(run=n, error=(r.stderr.strip().splitlines() or ['?'])[-1][:300])))
        res.append(json.load(open(f)))
        print(f"done {n}: " + (f"Set5 {res[-1]['set5']:.2f} dB, {res[-1]['samples_s']:.1f} samples/s" if 'error' not in res[-1] else f"failed: {res[-1]['error']}"), flush=True)
    table(res, a.minutes)

if __name__ == '__main__': main()
