"""Benchmark: restoring the photos people have (issue 18), `photo` against `lesson7`, `realistic` and classical methods.

    python bench/photos.py [--data ../shared/data] [--sets cset5,sun80] [--picture nbs/images/photo_rows.png] [--no-speed]
    python bench/photos.py --candidate new/photo.safetensors --no-baselines   # a finished training beside the shipped `photo`

Rows: the inputs of `protocols.photo_inputs`, made from clean photos never trained on (JPEGs are real files, so `photo`
reads their quality from the tables): clean, JPEG q10/20/30/40/50/80, JPEG q70 then q40, gaussian noise sigma 15, Poisson noise
(scale 1), blur sigma 1.2, an upscaled web copy (half size, JPEG q50, bicubic x2 back), a scan (blur 1, noise 8, JPEG q70)
and the lesson's crappifier. Columns: the input's mean RGB PSNR against the clean photo (border 4), then the mean gain
and the worst photo's gain (dB) for `photo` (its default strength, from its card), `photo` at strength 1, `lesson7`,
`realistic`, and the best classical method for that row (the best, by mean gain on that very row, of OpenCV's
`fastNlMeansDenoisingColored` at h 3/6/10, scikit-image's `denoise_wavelet` and `unsharp_mask` at amount 0.5/1: an
oracle choice, generous to the baseline). The clean row shows the restored photo's PSNR against itself.

Photos: CSet5 (5), 10 Sun80 photos (`tools/pretrain.py`'s `eval_sun80`: every 8th by name, downscaled to a 480-px short
side, never trained on by `photo`; `lesson7` and `realistic` did train on them, which favours them) and 10 BSDS500 test photos
(`eval_bsds`: every 20th of `test/` by name, 481x321 JPEG q95, never trained on by any model: 100007, 108069, 141012, 163096,
196088, 226043, 259060, 317043, 388006, 69000).

Beside the JPEG rows: the published mean gains of the best blind JPEG restorers on their own test (colour LIVE1, 29 photos, OpenCV
JPEG, RGB PSNR), their numbers, not runs: FBCNN (Jiang et al., "Towards Flexible Blind JPEG Artifacts Removal", ICCV 2021,
table 3: 25.69/28.06/29.37/30.28 -> 27.77/30.11/31.43/32.34 dB at q10/20/30/40) and DnCNN-3 (Zhang et al., "Beyond a Gaussian
Denoiser", IEEE TIP 2017, table 6, grey LIVE1: 27.77/30.07/31.41/32.35 -> 29.19/31.59/32.98/33.96 dB). Then seconds per
megapixel and peak memory of `lesson7ext-restore` on a 12-MP JPEG, `photo` and `lesson7` in their own processes.
"""
import argparse, json, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
from PIL import Image
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root)); sys.path.insert(0, str(root/'tools'))

def classical_methods():
    "`name -> f(PIL) -> PIL`: what a user has without a learned model."
    import cv2
    from skimage.restoration import denoise_wavelet
    from skimage.filters import unsharp_mask
    arr = lambda im: np.asarray(im.convert('RGB'))
    out = lambda a: Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8))
    ms = {f'OpenCV NL-means h{h}': (lambda h: lambda im: Image.fromarray(cv2.fastNlMeansDenoisingColored(arr(im), None, h, h, 7, 21)))(h) for h in (3, 6, 10)}
    ms['wavelet (BayesShrink)'] = lambda im: out(255 * denoise_wavelet(arr(im) / 255., channel_axis=-1, rescale_sigma=True))
    ms.update({f'unsharp mask {a}': (lambda a: lambda im: out(255 * unsharp_mask(arr(im) / 255., radius=1, amount=a, channel_axis=-1)))(a) for a in (0.5, 1.)})
    return ms

# Published mean gains (dB) on their own JPEG test, per quality: FBCNN (ICCV 2021, colour LIVE1), DnCNN-3 (TIP 2017, grey LIVE1)
PUBLISHED = {'jpeg q10': (2.08, 1.42), 'jpeg q20': (2.05, 1.52), 'jpeg q30': (2.06, 1.57), 'jpeg q40': (2.06, 1.61)}

def eval_sets(data, work):
    import pretrain
    return dict(cset5=sorted((Path(data)/'CSet5').glob('*.png')), sun80=pretrain.eval_files(data, work), bsds=pretrain.eval_bsds(data))

def score_set(files, rows, candidate=None, baselines=True):
    "Each column's `photo_grid` on `files`: `photo` (default strength and 1), a candidate file's the same way, then the baselines."
    from lesson7ext.protocols import photo_grid
    from lesson7ext.restore import restore, cached_restorer
    ms = dict(photo='photo', **(dict(new=candidate) if candidate else {}), **(dict(lesson7='lesson7', realistic='realistic') if baselines else {}))
    res = {}
    for k, n in ms.items():
        m = cached_restorer(n)
        res[k] = photo_grid(lambda im: restore(im, m), files, rows)
        if k in ('photo', 'new'): res[f'{k}_s1'] = photo_grid(lambda im: restore(im, m, strength=1.), files, rows)
    if baselines:
        cl = {n: photo_grid(f, files, rows) for n, f in classical_methods().items()}
        res['classical'] = {r: dict(max((dict(g[r], method=n) for n, g in cl.items()), key=lambda v: v['gain'])) for r in rows}
    return res

def cell(v, row):
    if row == 'clean': return f"{v['output']:.1f} dB (worst {v['worst'] + 100:.1f})"
    return f"{v['gain']:+.2f} ({v['worst']:+.2f})"

HEADS = dict(photo='`photo`', photo_s1='`photo` at strength 1', new='candidate', new_s1='candidate at strength 1', lesson7='`lesson7`', realistic='`realistic`')

def show(name, res, rows):
    print(f"\n## {name}: mean gain over the input, dB (worst photo's gain); clean: PSNR against itself\n")
    cols = [k for k in HEADS if k in res]
    print('| input | input dB | ' + ' | '.join(HEADS[k] for k in cols) + (' | best classical' if 'classical' in res else '') + ' | published: FBCNN / DnCNN-3 (LIVE1) |')
    print('|---' * (len(cols) + 3 + ('classical' in res)) + '|')
    for r in rows:
        inp = '(itself)' if r == 'clean' else f"{res['photo'][r]['input']:.2f}"
        pub = ' / '.join(f'{g:+.2f}' for g in PUBLISHED[r]) if r in PUBLISHED else ''
        c = res.get('classical', {}).get(r)
        print(f"| {r} | {inp} | " + ' | '.join(cell(res[k][r], r) for k in cols) + (f" | {cell(c, r)} {c['method']}" if c else '') + f" | {pub} |")
    if 'new' in res:  # where the candidate is behind `photo` (mean or worst photo), at the default strength
        behind = [r for r in rows if res['new'][r]['gain'] < res['photo'][r]['gain'] - 0.005 or res['new'][r]['worst'] < res['photo'][r]['worst'] - 0.005]
        print(f"\ncandidate behind `photo` (mean or worst photo, default strength): {', '.join(behind) or 'no row'}")

def part_speed(model, src, out):
    "One process: restore the 12-MP `src` with `model` through the CLI's function; seconds and peak RSS."
    import torch
    from lesson7ext.batch import restore_files
    from lesson7ext.restore import cached_restorer
    from lesson7ext.precision import resolve_precision
    m = cached_restorer(model)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.time()
    restore_files(m, [src], tempfile.mkdtemp(), quiet=True, strength=1.)  # full strength: the card would leave a q85 JPEG alone
    json.dump(dict(seconds=time.time() - t0, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, before_mb=rss0,
                   threads=torch.get_num_threads(), precision=resolve_precision('auto')), open(out, 'w'))

def speed(files, models=('photo', 'lesson7')):
    d = Path(tempfile.mkdtemp())
    src = d/'12mp.jpg'
    Image.open(files[0]).convert('RGB').resize((4000, 3000), Image.Resampling.BICUBIC).save(src, quality=85)
    from pretrain import cpu_name
    print(f"\n## 12-MP JPEG (4000x3000) through `lesson7ext-restore`'s code, each model in its own process ({cpu_name()})\n")
    print('| model | seconds | s per MP | peak memory (MB) | threads | precision |')
    print('|---|---|---|---|---|---|')
    for i, m in enumerate(models):
        subprocess.run([sys.executable, __file__, '--part-speed', m, str(src), str(d/f'{i}.json')], check=True)
        r = json.load(open(d/f'{i}.json'))
        print(f"| `{Path(m).name}` | {r['seconds']:.1f} | {r['seconds'] / 12:.2f} | {r['peak_mb']:.0f} | {r['threads']} | {r['precision']} |")

def picture(files, path):
    "One CSet5 crop per row group: input, `photo`, `lesson7`, `realistic`, original."
    from lesson7ext.protocols import photo_inputs
    from lesson7ext.restore import restore, cached_restorer
    from lesson7ext.data import image_grid
    from lesson7ext.folder import file_seed
    ms = [cached_restorer(n) for n in ('photo', 'lesson7', 'realistic')]
    grid = []
    for row, f in (('clean', files[3]), ('jpeg q30', files[0]), ('jpeg q70 then q40', files[2]), ('noise σ15', files[4]), ('scan', files[1]), ('web copy', files[3])):
        hr = Image.open(f).convert('RGB')
        x = photo_inputs[row](hr, file_seed(0, f.name))
        box = (hr.width // 2 - 80, hr.height // 2 - 60, hr.width // 2 + 80, hr.height // 2 + 60)
        grid.append([im.crop(box) for im in [x.convert('RGB')] + [restore(x, m) for m in ms] + [hr]])
    image_grid(grid, ['input', 'photo', 'lesson7', 'realistic', 'original'], height=150).save(path)
    print(f"\nwrote {path}")

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--work', default=str(Path.home()/'.cache'/'lesson7ext'/'pretrain'))
    p.add_argument('--sets', default='cset5,sun80,bsds')
    p.add_argument('--rows', default=None, help='comma-separated rows of protocols.photo_inputs (default: all)')
    p.add_argument('--picture', default=None, help='write the before/after picture here')
    p.add_argument('--no-speed', action='store_true')
    p.add_argument('--speed-only', action='store_true')
    p.add_argument('--candidate', default=None, help='a model file scored beside the shipped `photo` (e.g. a finished training, before it replaces `photo`)')
    p.add_argument('--no-baselines', action='store_true', help='score `photo` (and the candidate) only, not lesson7, realistic and classical methods')
    p.add_argument('--json', default=None, help='also write the numbers here')
    p.add_argument('--part-speed', nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.part_speed: return part_speed(*a.part_speed)
    from lesson7ext.protocols import photo_inputs
    import torch
    rows, sets = a.rows.split(',') if a.rows else list(photo_inputs), eval_sets(a.data, a.work)
    sp = ('photo', a.candidate) if a.candidate else ('photo', 'lesson7')
    if a.speed_only: return speed(sets['cset5'], sp)
    print(f"bench/photos.py: {torch.get_num_threads()} threads; Sun80 photos: {', '.join(f.stem for f in sets['sun80'])}; "
          f"BSDS500 photos: {', '.join(f.stem for f in sets['bsds'])}")
    allres = {}
    for s in a.sets.split(','):
        allres[s] = score_set(sets[s], rows, a.candidate, not a.no_baselines)
        show(f"{s} ({len(sets[s])} photos)", allres[s], rows)
    if a.json: json.dump(allres, open(a.json, 'w'))
    if a.picture: picture(sets['cset5'], a.picture)
    if not a.no_speed: speed(sets['cset5'], sp)

if __name__ == '__main__': main()
