"Nets that work on the small image and upscale by themselves (the shipped `x4`'s `RestoreUnet(scale=4)`, `LrSrNet`) everywhere a model runs: fine-tuning from the CLI, tiles, ONNX, video (issue 41)."
import shutil, subprocess
from pathlib import Path
import numpy as np, pytest, torch, av
from PIL import Image
from lesson7ext.zoo import LrSrNet, RestoreUnet, NafUnet, export_restorer, load_restorer
from lesson7ext.train import new_upscaler
from lesson7ext.restore import restore
from lesson7ext.data import sample_photos
from lesson7ext.video import synthetic_clip, probe_video

def run(*a, timeout=600):
    return subprocess.run([shutil.which(a[0]), *map(str, a[1:])], capture_output=True, text=True, timeout=timeout)

nets = dict(lrsr=lambda: LrSrNet(nf=16, n_blocks=3), unet=lambda: RestoreUnet(nf=16, factor=1, scale=4), naf=lambda: NafUnet(nf=16, factor=1, scale=4))

def trained_like(arch='unet', seed=0):
    "A net that upscales x4 by itself, its head not zero as after training: its output differs from bicubic."
    torch.manual_seed(seed)
    m = nets[arch]()
    torch.nn.init.normal_(m.head.weight, std=0.02)
    for n, b in m.named_parameters():
        if n.endswith(('beta', 'gamma')): torch.nn.init.normal_(b, std=0.1)  # NAF blocks start as the identity too
    return m.eval()

@pytest.fixture
def photos(tmp_path):
    src = tmp_path/'photos'; src.mkdir()
    for f in sample_photos()[:3]: Image.open(f).convert('RGB').resize((200, 150)).save(src/f'{f.stem}.png')
    return src

def test_train_fine_tunes_a_net_that_upscales(photos, tmp_path):
    "`lesson7ext-train --init X4FILE --scale 4`: trained on the small images, the file loads back as the same LrSrNet and upscales x4."
    start = export_restorer(trained_like(), tmp_path/'start.safetensors', scale=4)
    out = tmp_path/'ft.safetensors'
    r = run('lesson7ext-train', photos, '--init', start, '--scale', '4', '--out', out, '--minutes', '0.1', '--size', '64', '--bs', '4', '--quiet')
    assert r.returncode == 0, r.stderr[-2000:]
    a, b = load_restorer(start), load_restorer(out)
    assert type(b) is type(a) and b.config() == a.config() and b.scale == 4
    assert max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters())) > 0  # it trained
    img = Image.open(next(photos.iterdir()))
    assert restore(img, b).size == (800, 600)
    r = run('lesson7ext-train', photos, '--init', start, '--out', tmp_path/'x.safetensors')  # a x4 model on x1 data
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and '--scale 4' in r.stderr, r.stderr

def test_train_a_new_upscaler_works_on_the_small_image(photos, tmp_path):
    "`lesson7ext-train --scale 4` without `--init` trains an `LrSrNet`: the net that works on the small image."
    out = tmp_path/'x4.safetensors'
    r = run('lesson7ext-train', photos, '--preset', 'none', '--scale', '4', '--out', out, '--minutes', '0.1', '--size', '64', '--bs', '4', '--quiet')
    assert r.returncode == 0, r.stderr[-2000:]
    m = load_restorer(out)
    assert m.config() == new_upscaler(4).config() and (m.scale, m.upscales) == (4, 4)

@pytest.mark.parametrize('arch', list(nets))
def test_tiled_equals_whole(arch):
    "Tiles of the small image, the overlap counted in its pixels: the result equals the whole image's within 1/255."
    m = trained_like(arch)
    img = Image.open(sample_photos(['astronaut'])[0]).convert('RGB').resize((300, 220))
    whole = np.asarray(restore(img, m, tile=None, precision='fp32'), dtype=np.int16)
    tiled = np.asarray(restore(img, m, tile=96, overlap=32, precision='fp32'), dtype=np.int16)
    assert whole.shape == (880, 1200, 3) and np.abs(whole - tiled).max() <= 1
    assert np.abs(whole - np.asarray(img.resize((1200, 880), Image.Resampling.BICUBIC), dtype=np.int16)).mean() > 0.5  # (not just bicubic)

def test_onnx_export_takes_the_small_image(tmp_path):
    "`lesson7ext-export FILE --onnx`: the graph takes the small image (no bicubic upscale before the net) and gives `restore`'s result."
    import onnxruntime as ort
    f = export_restorer(trained_like(), tmp_path/'x4.safetensors', scale=4)
    out = tmp_path/'x4.onnx'
    r = run('lesson7ext-export', f, '--onnx', out)
    assert r.returncode == 0, r.stderr[-2000:]
    img = Image.open(sample_photos(['chelsea'])[0]).convert('RGB').resize((90, 70))
    x = (np.asarray(img, dtype=np.float32) / 255).transpose(2, 0, 1)[None].copy()
    got = ort.InferenceSession(str(out)).run(None, {'image': x})[0]
    assert got.shape == (1, 3, 280, 360)
    ref = np.asarray(restore(img, load_restorer(f), tile=None, precision='fp32'), dtype=np.float32)
    assert np.abs((got[0].transpose(1, 2, 0) * 255).round() - ref).max() <= 1

def test_video_upscaled_by_the_net(tmp_path):
    "A video through an LrSrNet x4 file: every frame four times larger, as many frames."
    f = export_restorer(trained_like(), tmp_path/'x4.safetensors', scale=4)
    clip = synthetic_clip(tmp_path/'clip.mp4', n=8, size=(64, 48), rate=10, gop=4, audio=False)
    r = run('lesson7ext-restore', clip, '--model', f, '--out', tmp_path/'out', '--quiet')
    assert r.returncode == 0, r.stderr[-2000:]
    with av.open(str(tmp_path/'out'/'clip.mp4')) as c:
        fr = [x.to_ndarray(format='rgb24') for x in c.decode(video=0)]
    assert len(fr) == 8 and fr[0].shape == (192, 256, 3)
