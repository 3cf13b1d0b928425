"Published restorers (spandrel architectures, random weights in small configurations) through load_restorer, restore, video and the CLI."
import os, subprocess
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
from safetensors.torch import save_file
from spandrel.architectures.DnCNN.__arch.network_dncnn import DnCNN
from spandrel.architectures.Compact.__arch.SRVGG import SRVGGNetCompact
from spandrel.architectures.FBCNN.__arch.FBCNN import FBCNN
from spandrel.architectures.SCUNet.__arch.SCUNet import SCUNet
from spandrel.architectures.DRUNet.__arch.network_unet import DRUNet
from spandrel.architectures.SwinIR.__arch.SwinIR import SwinIR
from spandrel.architectures.ESRGAN.__arch.RRDB import RRDBNet
from lesson7ext.zoo import load_restorer, RestorerFileError
from lesson7ext.restore import restore
from lesson7ext.video import frame_restorer
from lesson7ext.data import sample_photos

@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('published')
    torch.manual_seed(0)
    dn = DnCNN(in_nc=3, out_nc=3, nc=8, nb=8, act_mode='R')
    for p in dn.parameters(): p.data.mul_(0.3)  # a small residual: the output stays near the input
    torch.save(dn.state_dict(), d/'dncnn_color.pth')
    torch.save({'params_ema': DnCNN(in_nc=1, out_nc=1, nc=8, nb=8, act_mode='R').state_dict()}, d/'dncnn_gray.pth')
    save_file(SRVGGNetCompact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=2).state_dict(), str(d/'compact_x2.safetensors'))
    class Evil:
        def __reduce__(self): return (os.system, (f'touch {d}/pwned',))
    torch.save({'w': torch.zeros(1), 'evil': Evil()}, d/'evil.pth')
    return d

@pytest.fixture(scope='module')
def photo(): return Image.open(sample_photos(['coffee'])[0]).convert('RGB').crop((0, 0, 201, 133))  # odd sizes

def test_denoiser_keeps_size_and_blends(files, photo):
    m = load_restorer(files/'dncnn_color.pth')
    assert (m.scale, m.arch) == (1, 'DnCNN') and m.restorer_info['card']['source']['sha256']
    full, half = restore(photo, m, strength=1), restore(photo, m, strength=0.5)
    assert full.size == photo.size and half.size == photo.size
    a, f, h = (np.asarray(i, dtype=float) for i in (photo, full, half))
    assert np.abs(f - a).mean() > 0.5                          # the net did something
    assert np.abs((a + f) / 2 - h).max() <= 1.01               # half strength is half way
    assert restore(photo, m, strength=0).tobytes() == photo.tobytes()

def test_upscaler_makes_the_larger_image_itself_and_tiles_exactly(files, photo):
    m = load_restorer(files/'compact_x2.safetensors')
    assert (m.scale, m.upscales) == (2, 2)
    whole, tiled = restore(photo, m, tile=None), restore(photo, m, tile=64, overlap=32)
    assert whole.size == (402, 266)
    assert np.abs(np.asarray(whole, dtype=int) - np.asarray(tiled, dtype=int)).max() <= 1
    assert restore(photo, m, strength=0).size == (402, 266)   # strength 0: the bicubic upscale
    with pytest.raises(ValueError, match='upscales x2 by itself'): restore(photo, m, scale=4)

def test_grey_model_keeps_colour(files, photo):
    out = restore(photo, load_restorer(files/'dncnn_gray.pth'), consistent=False)
    a, b = (np.asarray(i.convert('YCbCr'), dtype=float) for i in (photo, out))
    assert np.abs(b[..., 0] - a[..., 0]).mean() > 0.5          # luma changed
    assert np.abs(b[..., 1:] - a[..., 1:]).mean() < 1.0        # chroma kept (rounding)

def test_video_frames_through_an_upscaler(files):
    f = frame_restorer(load_restorer(files/'compact_x2.safetensors'), strength=1, tile=64)
    ins, outs = f([np.full((24, 32, 3), 120, np.uint8)] * 2)
    assert ins[0].shape == (48, 64, 3) and outs[0].shape == (48, 64, 3)

@pytest.fixture(scope='module')
def fbcnn(tmp_path_factory):
    "The smallest FBCNN spandrel recognises (28M parameters: its quality head needs 512 channels), saved in fp16."
    torch.manual_seed(0)
    f = tmp_path_factory.mktemp('fbcnn')/'fbcnn_color.safetensors'
    save_file({k: v.half() for k, v in FBCNN(nc=[8, 16, 32, 512], nb=2).state_dict().items()}, str(f))
    return f

def test_fbcnn_gets_the_files_quality(fbcnn, photo, tmp_path):
    "FBCNN's quality input is the JPEG's own quality, from its tables; `--jpeg-quality` overrides it."
    m = load_restorer(fbcnn)
    assert m.takes_quality
    photo.save(tmp_path/'q30.jpg', quality=30)
    img = Image.open(tmp_path/'q30.jpg')
    got = np.asarray(restore(img, m, strength=1), dtype=int)
    assert (got == np.asarray(restore(img, m, strength=1, quality=30), dtype=int)).all()
    q90 = np.asarray(restore(img, m, strength=1, quality=90), dtype=int)
    assert np.abs(got - q90).max() > 0                          # another quality, another result
    r = subprocess.run(['lesson7ext-restore', str(tmp_path/'q30.jpg'), '--model', str(fbcnn), '--jpeg-quality', '90', '--ext', 'png',
                        '--out', str(tmp_path/'out'), '--quiet'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (np.asarray(Image.open(tmp_path/'out'/'q30.png'), dtype=int) == q90).all()
    with pytest.raises(ValueError, match='between 1 and 100'): restore(img, m, quality=101)

def test_code_in_a_pickle_is_refused_and_never_runs(files):
    with pytest.raises(RestorerFileError, match='refused'): load_restorer(files/'evil.pth')
    assert not (files/'pwned').exists()

def test_cli_with_a_published_model(files, photo, tmp_path):
    src = tmp_path/'in'; src.mkdir(); photo.save(src/'a.png')
    r = subprocess.run(['lesson7ext-restore', str(src), '--out', str(tmp_path/'out'), '--model', str(files/'compact_x2.safetensors'), '--quiet'],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path/'out'/'a.png').size == (402, 266)
    r = subprocess.run(['lesson7ext-restore', str(src), '--out', str(tmp_path/'o2'), '--model', str(files/'evil.pth')], capture_output=True, text=True, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and 'evil.pth' in lines[0] and 'refused' in lines[0], r.stderr
    assert not (files/'pwned').exists()

def test_list_models_describes_each_file(files):
    r = subprocess.run(['lesson7ext-restore', '--list-models', str(files)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    para = {p.split(':')[0]: p for p in r.stdout.split('\n') if p and not p.startswith(' ')}
    assert {'compact_x2.safetensors', 'dncnn_color.pth', 'dncnn_gray.pth', 'evil.pth', 'photo'} <= set(para)
    assert 'scale: x2' in r.stdout and 'architecture: RealESRGAN Compact' in r.stdout and 'grey' in para['dncnn_gray.pth']
    assert 'cannot be loaded' in para['evil.pth'] and 'refused' in para['evil.pth']
    r = subprocess.run(['lesson7ext-restore', '--list-models', str(files/'nowhere')], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and 'folder not found' in r.stderr

def test_page_offers_published_files(files):
    from lesson7ext.app import model_choices
    values = [v for _, v in model_choices(files)]
    assert str(files/'dncnn_color.pth') in values and str(files/'compact_x2.safetensors') in values

def test_fine_tune_a_published_model(files, photo, tmp_path):
    "`lesson7ext-train --init dncnn.pth`: the file it writes loads back as that architecture, with the source file's card, and restores; a published x2 upscaler fine-tunes on the small images."
    from lesson7ext.published import file_sha256
    src = tmp_path/'photos'; src.mkdir()
    for f in sample_photos()[:4]: Image.open(f).convert('RGB').resize((160, 120)).save(src/f'{f.stem}.png')
    out = tmp_path/'models'/'ft.safetensors'
    out.parent.mkdir()
    r = subprocess.run(['lesson7ext-train', str(src), '--init', str(files/'dncnn_color.pth'), '--out', str(out), '--minutes', '0.25',
                        '--size', '64', '--bs', '4', '--quiet'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    base, ft = load_restorer(files/'dncnn_color.pth'), load_restorer(out)
    assert (type(ft).__name__, ft.arch, ft.scale) == ('PublishedRestorer', 'DnCNN', 1)
    pub = ft.restorer_info['card']['published']
    assert pub['source'] == dict(file='dncnn_color.pth', sha256=file_sha256(files/'dncnn_color.pth')) and pub['spandrel']
    moved = max((a - b).abs().max().item() for a, b in zip(ft.net.parameters(), base.net.parameters()))
    assert moved > 0                                            # it trained
    a, b = restore(photo, base, strength=1), restore(photo, ft, strength=1)
    assert b.size == photo.size and a.tobytes() != b.tobytes()
    r = subprocess.run(['lesson7ext-restore', '--list-models', str(out.parent)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'ft.safetensors: Restoration' in r.stdout and 'fine-tuned:' in r.stdout and 'DnCNN' in r.stdout, r.stdout
    x2 = tmp_path/'x2.safetensors'  # a published upscaler fine-tunes on the small images
    r = subprocess.run(['lesson7ext-train', str(src), '--init', str(files/'compact_x2.safetensors'), '--scale', '2', '--out', str(x2), '--minutes', '0.1',
                        '--size', '64', '--bs', '4', '--quiet'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    a, b = load_restorer(files/'compact_x2.safetensors'), load_restorer(x2)
    assert (b.arch, b.scale, b.upscales) == (a.arch, 2, 2) and max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters())) > 0
    assert restore(photo, b).size == (photo.width * 2, photo.height * 2)

def _ort(path, x):
    import onnxruntime as ort
    return ort.InferenceSession(str(path)).run(None, {'image': x})[0]

def test_onnx_export_of_photo_is_restore(photo, tmp_path):
    "`lesson7ext-export photo --onnx`: ONNX Runtime's result at a size the export never saw is `restore`'s (whole image, fp32), to a level."
    out = tmp_path/'sub'/'photo.onnx'
    r = subprocess.run(['lesson7ext-export', 'photo', '--onnx', str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.startswith(f'wrote {out}'), r.stderr[-2000:]
    assert not list(out.parent.glob('.*partial'))
    x = (np.asarray(photo, dtype=np.float32) / 255).transpose(2, 0, 1)[None].copy()
    got = (_ort(out, x)[0].transpose(1, 2, 0) * 255).round()
    ref = np.asarray(restore(photo, 'photo', tile=None, precision='fp32', strength=1, consistent=False), dtype=np.float32)
    assert got.shape == ref.shape and np.abs(got - ref).max() <= 1

def test_onnx_export_of_published_nets(files, fbcnn, tmp_path):
    "A published x2 upscaler exports and upscales; FBCNN, whose padding is NumPy arithmetic on the size, is refused in one line, and no file is left."
    r = subprocess.run(['lesson7ext-export', str(files/'compact_x2.safetensors'), '--onnx', str(tmp_path/'c.onnx')], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _ort(tmp_path/'c.onnx', np.random.rand(2, 3, 21, 30).astype(np.float32)).shape == (2, 3, 42, 60)
    r = subprocess.run(['lesson7ext-export', str(fbcnn), '--onnx', str(tmp_path/'f.onnx')], capture_output=True, text=True, timeout=600)
    lines = [l for l in r.stderr.splitlines() if l.startswith('lesson7ext-export')]
    assert r.returncode == 1 and len(lines) == 1 and 'cannot be exported to ONNX' in lines[0] and "image's size" in lines[0], r.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c.onnx']


archs = {  # the smallest configurations spandrel 0.4 still recognises, saved as their authors do: name -> (net, scale)
    'scunet_color.pth': (lambda: SCUNet(in_nc=3, config=[1] * 7, dim=64), 1),  # half its channels go to heads 32 wide
    'drunet_color.pth': (lambda: DRUNet(in_nc=4, out_nc=3, nc=[8, 16, 32, 64], nb=2), 1),
    'drunet_gray.safetensors': (lambda: DRUNet(in_nc=2, out_nc=1, nc=[8, 16, 32, 64], nb=2), 1),
    'swinir_x4.pth': (lambda: SwinIR(upscale=4, in_chans=3, img_size=16, window_size=8, img_range=1., depths=[2], embed_dim=12, num_heads=[2],
                                     mlp_ratio=2, upsampler='pixelshuffle', resi_connection='1conv'), 4),
    'esrgan_x4.pth': (lambda: RRDBNet(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=4), 4),
}

@pytest.fixture(scope='module')
def arch_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('archs')
    torch.manual_seed(0)
    for name, (make, _) in archs.items():
        sd = make().state_dict()
        if name.endswith('.safetensors'): save_file(sd, str(d/name))
        else: torch.save({'params': sd} if 'swinir' in name else sd, d/name)  # SwinIR's releases nest the weights
    return d

def _t(img): return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)

@pytest.mark.parametrize('name', list(archs))
def test_architecture_runs_as_spandrel_does(arch_dir, photo, name):
    "Each architecture loads, has its scale, gives spandrel's own whole-image result, tiles within 1/255 where it may, and strength 0 is the input."
    from spandrel import ModelLoader
    from lesson7ext.restore import restore_tensor
    f, scale = arch_dir/name, archs[name][1]
    m, desc = load_restorer(f), ModelLoader().load_from_file(str(f))
    assert (m.arch, m.scale) == (desc.architecture.name, scale)
    img = photo.crop((0, 0, 96, 72))
    x = _t(img)
    with torch.no_grad():
        ours = restore_tensor(m, x, tile=None, precision='fp32')
        assert ours.shape == (3, 72 * scale, 96 * scale)
        xin = x if m.n_in == 3 else (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None]
        if m.n_in == 1: ours = m.run(xin[None])[0].clamp(0, 1)  # a grey net: what it makes of the luma (its colour is kept: `test_grey_model_keeps_colour`)
        theirs = desc(xin[None])[0]
        assert (ours - theirs.squeeze(0)).abs().max() <= 1 / 255
        if m.tiling == 'supported':
            assert (restore_tensor(m, x, tile=48, overlap=24, precision='fp32') - restore_tensor(m, x, tile=None, precision='fp32')).abs().max() <= 1 / 255
    odd = photo.crop((0, 0, 77, 53))                                     # a size that is no multiple of anything
    assert restore(odd, m, strength=1).size == (77 * scale, 53 * scale)
    if scale == 1: assert restore(odd, m, strength=0).tobytes() == odd.tobytes()

def test_every_architecture_through_the_cli(arch_dir, photo, tmp_path):
    src = tmp_path/'in'; src.mkdir(); photo.crop((0, 0, 77, 53)).save(src/'a.png')
    for name, (_, scale) in archs.items():
        r = subprocess.run(['lesson7ext-restore', str(src), '--out', str(tmp_path/name), '--model', str(arch_dir/name)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, (name, r.stderr)
        assert ('a.png: DRUNet is a grey model' in r.stderr) == ('gray' in name), (name, r.stderr)  # said in one line
        assert Image.open(tmp_path/name/'a.png').size == (77 * scale, 53 * scale), name

def test_unknown_file_is_one_line_exit_2(tmp_path):
    torch.save({'conv.weight': torch.zeros(4, 3, 3, 3)}, tmp_path/'mystery.pth')
    Image.new('RGB', (32, 32)).save(tmp_path/'a.png')
    r = subprocess.run(['lesson7ext-restore', str(tmp_path/'a.png'), '--out', str(tmp_path/'o'), '--model', str(tmp_path/'mystery.pth')],
                       capture_output=True, text=True, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and 'mystery.pth' in lines[0] and 'no architecture spandrel' in lines[0], r.stderr

def test_twenty_steps_lower_the_loss_and_the_file_reloads(files, tmp_path):
    "fastai fine-tunes a published net: 20 steps lower the validation loss; the exported file gives the learner's outputs."
    from lesson7ext.data import restoration_dls
    from lesson7ext.train import restoration_learner
    from lesson7ext.zoo import export_restorer
    torch.manual_seed(0)
    dls = restoration_dls(sample_photos()[:6], 'lesson7', size=48, bs=4, valid_pct=0.34, epoch_size=80)
    learn = restoration_learner(dls, init=files/'dncnn_color.pth', precision='fp32', guard=False)
    before = learn.validate()[0]
    learn.fit(1, 1e-3)                                         # 80 crops in batches of 4: 20 steps
    assert learn.train_iter == 20
    after = learn.validate()[0]
    assert after < before, (before, after)
    f = export_restorer(learn, tmp_path/'ft.safetensors', card=dict(steps=20))
    back, x = load_restorer(f), dls.one_batch()[0][:2].cpu()
    learn.model.eval()
    with torch.no_grad(): assert (back(x) - learn.model(x)).abs().max() < 1e-5
