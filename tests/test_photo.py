"The blind `photo` model, the default: it loads with a valid card, leaves clean photos alone, improves JPEGs, obeys `--strength`."
import io, subprocess
from pathlib import Path
import numpy as np, pytest
from PIL import Image

from lesson7ext.zoo import shipped_models, model_card, load_restorer
from lesson7ext.restore import restore, jpeg_quality, cached_restorer
from lesson7ext.images import open_image
from lesson7ext.losses import psnr

data = Path(__file__).resolve().parents[2]/'shared'/'data'
cset5 = sorted((data/'CSet5').glob('*.png'))
needs_photo = pytest.mark.skipif('photo' not in shipped_models(), reason='the photo model is not installed')
needs_cset5 = pytest.mark.skipif(not cset5, reason='needs ../shared/data/CSet5')
rgb_psnr = lambda a, b: psnr(np.asarray(a.convert('RGB')), np.asarray(b.convert('RGB')), 4, y_channel=False)

def photo_file(tmp_path, name='p.png'):
    "A real photo as a file: CSet5's butterfly where the data is here, else one bundled with scikit-image."
    from lesson7ext.data import sample_photos
    src = cset5[2] if cset5 else sample_photos(['coffee'])[0]
    im = Image.open(src).convert('RGB')
    im.save(tmp_path/name)
    return tmp_path/name, im

@needs_photo
def test_photo_loads_and_card():
    m, c = load_restorer('photo'), model_card('photo')
    assert m.scale == 1 and c['name'] == 'photo' and c['recipe']['preset'] == 'photo' and c['recipe']['loss'] == 'mse'
    assert 'photos people have' in c['inputs'] and 'Sun80' in c['data']['never']
    assert 0 < c['strength'] <= 1 and all(0 <= s <= 1 for _, s in c['strength_by_quality'])
    assert {'clean', 'jpeg q30', 'noise σ15'} <= set(c['scores']['grid'])

def test_restore_defaults_to_photo(monkeypatch, tmp_path):
    "`restore` and `lesson7ext-restore` without --model restore photos with `photo`; a video's codec picks its own (`test_video.py`)."
    import inspect, lesson7ext.cli as cli
    assert inspect.signature(restore).parameters['model'].default == 'photo'
    seen = {}
    monkeypatch.setattr(cli, 'restore_files', lambda m, *a, **kw: seen.update(model=m, video=kw['video']) or dict(written=[], skipped=[], notes=[]))
    cli.restore_cmd(['x.png'], out=str(tmp_path))
    assert seen['model'].restorer_info['card']['name'] == 'photo' and seen['video']['model'] == 'auto'

@needs_photo
def test_cli_improves_a_real_jpeg(tmp_path):
    "The README's first command, on a JPEG q10 of a photo never trained on: the default model makes it better."
    _, clean = photo_file(tmp_path)
    clean.save(tmp_path/'photo.jpg', quality=10)
    r = subprocess.run(['lesson7ext-restore', str(tmp_path/'photo.jpg'), '--out', str(tmp_path/'restored'), '--quiet'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = Image.open(tmp_path/'restored'/'photo.jpg')
    assert rgb_psnr(out, clean) > rgb_psnr(Image.open(tmp_path/'photo.jpg'), clean) + 0.2

@needs_photo
def test_strength_zero_is_the_input(tmp_path):
    src, clean = photo_file(tmp_path)
    clean.save(tmp_path/'q.jpg', quality=40)
    r = subprocess.run(['lesson7ext-restore', str(src), str(tmp_path/'q.jpg'), '--out', str(tmp_path/'o'), '--strength', '0', '--ext', 'png', '--quiet'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for f in (src, tmp_path/'q.jpg'):
        assert np.array_equal(np.asarray(Image.open(tmp_path/'o'/f'{f.stem}.png')), np.asarray(open_image(f))), f
    bad = subprocess.run(['lesson7ext-restore', str(src), '--out', str(tmp_path/'o2'), '--strength', '-1'], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path/'o2').exists()

def test_quality_from_the_tables(tmp_path):
    "What the CLI reads from a JPEG file (`open_image` keeps the tables): the quality it was saved at, q10...q95, within 2."
    _, clean = photo_file(tmp_path)
    for q in range(10, 96, 5):
        clean.save(tmp_path/f'{q}.jpg', quality=q)
        got = jpeg_quality(open_image(tmp_path/f'{q}.jpg'))
        assert got is not None and abs(got - q) <= 2, (q, got)

def cset5_gains(q=None):
    "Per CSet5 photo: the restored photo's RGB PSNR against the clean one (`q=None`: the clean photo itself), and the input's."
    from lesson7ext.protocols import jpeg_file
    m, out = cached_restorer('photo'), []
    for f in cset5:
        im = Image.open(f).convert('RGB')
        x = im if q is None else jpeg_file(im, q)
        out.append((rgb_psnr(restore(x, m), im), rgb_psnr(x, im)))
    return out

@needs_photo
@needs_cset5
def test_clean_photos_stay():
    "Clean CSet5 photos come back at 40 dB or more against themselves on average (the issue's target), the butterfly (no grain) alone too."
    got = [o for o, _ in cset5_gains()]
    assert np.mean(got) >= 40 and got[2] >= 40, got

@needs_photo
@needs_cset5
@pytest.mark.xfail(strict=True, reason="issue 18: the photo model removes the grain of CSet5's head (noise sigma about 5 by skimage's estimate_sigma): 33.3 dB against itself")
def test_every_clean_photo_stays():
    assert min(o for o, _ in cset5_gains()) >= 40

@needs_photo
@needs_cset5
def test_jpeg_q10_gets_better():
    assert all(o > i for o, i in cset5_gains(10))

@needs_photo
@needs_cset5
def test_jpeg_q30_gets_better():
    g = cset5_gains(30)
    assert np.mean([o - i for o, i in g]) > 0 and all(o > i for o, i in g), g

def smooth_photo():
    "A photo made here: soft colour gradients with no texture, as skies, skin and studio backdrops are (CSet5's woman is close to it)."
    from PIL import ImageFilter
    yy, xx = np.mgrid[0:256, 0:320] / 255.
    a = np.stack([120 + 80 * np.sin(xx * 3 + yy), 100 + 60 * np.cos(yy * 4), 140 + 50 * np.sin(xx * 2 - yy * 3)], -1)
    return Image.fromarray(a.round().astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))

@needs_photo
@pytest.mark.parametrize('q', [30, 50, 80])
def test_smooth_jpeg_never_worse(q):
    "The never-worse bound (-0.1 dB) on high-PSNR JPEGs: a smooth photo saved at quality `q`, restored as a user's file is."
    # Issue 28: `photo` put its own colour error into such files (q50 43.0 dB came back 41.2, q80 48.3 came back 43.3): the
    # restoration is now kept to the file's chroma bins (`chroma_consistent`) as well as its luma bins.
    hr = smooth_photo()
    buf = io.BytesIO(); hr.save(buf, format='JPEG', quality=q); x = Image.open(io.BytesIO(buf.getvalue()))
    assert jpeg_quality(x) == q
    assert rgb_psnr(restore(x, 'photo'), hr) >= rgb_psnr(x, hr) - 0.1, (rgb_psnr(restore(x, 'photo'), hr), rgb_psnr(x, hr))

def test_mixture_trains_away_from_identity(tmp_path):
    "A brief training on the `photo` mixture (untouched photos in it) with MSE moves away from the identity, and the guard lets it."
    import torch, torch.nn.functional as F
    from lesson7ext.data import restoration_dls, sample_photos
    from lesson7ext.train import restoration_learner, StuckGuard
    torch.manual_seed(0)
    dls = restoration_dls(sample_photos()[:6], 'photo', size=64, bs=8, epoch_size=400, valid_pct=0.2)
    learn = restoration_learner(dls, loss_func=F.mse_loss, factor=4, nf=16, precision='fp32')
    assert any(isinstance(c, StuckGuard) for c in learn.cbs)
    learn.fit(4, 1e-3)  # 200 steps: the guard checks at 150
    x = dls.valid.one_batch()[0]
    with torch.no_grad(): d = (learn.model.eval()(x) - x).abs().mean().item()
    assert learn.model.head.weight.abs().mean() > 1e-4 and d > 1e-3, d
