"Inputs people really have, through `lesson7ext-restore`: every input gets its own output or a reason, nothing outside --out."
import subprocess
from pathlib import Path
import numpy as np, pytest
from PIL import Image, ImageCms

from lesson7ext.zoo import RestoreUnet, export_restorer

def run(*args): return subprocess.run(['lesson7ext-restore', *map(str, args)], capture_output=True, text=True, timeout=300)

@pytest.fixture
def ident(tmp_path): return export_restorer(RestoreUnet(nf=8), tmp_path/'ident.safetensors')  # zero head: the identity

def photo(path, seed=0, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path, **kw)

def outputs(out): return sorted(p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file() and p.suffix != '.tsv')

def test_same_stem_different_format(tmp_path, ident):
    photo(tmp_path/'in'/'a.jpg', 1); photo(tmp_path/'in'/'a.png', 2)
    r = run(tmp_path/'in', '--model', ident, '--out', tmp_path/'o', '--quiet')
    assert r.returncode == 0 and outputs(tmp_path/'o') == ['a.jpg', 'a.png'], (r.stdout, r.stderr)
    r = run(tmp_path/'in', '--model', ident, '--out', tmp_path/'p', '--ext', 'png', '--quiet')
    assert r.returncode == 1 and outputs(tmp_path/'p') == ['a.png']
    rep = (tmp_path/'p'/'restore_report.tsv').read_text()
    assert 'a.png' in rep and 'not overwritten' in rep
    assert np.array_equal(np.asarray(Image.open(tmp_path/'p'/'a.png')), np.asarray(Image.open(tmp_path/'in'/'a.jpg').convert('RGB')))  # the first one, intact

def test_two_folders_same_names(tmp_path, ident):
    photo(tmp_path/'x'/'photo.png', 1); photo(tmp_path/'y'/'photo.png', 2); photo(tmp_path/'loose.png', 3)
    r = run(tmp_path/'x', tmp_path/'y', tmp_path/'loose.png', '--model', ident, '--out', tmp_path/'o', '--quiet')
    assert r.returncode == 0 and outputs(tmp_path/'o') == ['loose.png', 'x/photo.png', 'y/photo.png'], r.stderr

def test_nothing_outside_out(tmp_path, ident):
    photo(tmp_path/'a'/'x.png'); (tmp_path/'b').mkdir()
    r = run(f"{tmp_path/'b'}/../a/x.png", (tmp_path/'a'/'x.png').resolve(), '--model', ident, '--out', tmp_path/'o', '--quiet')
    assert outputs(tmp_path/'o') == ['x.png'] and r.returncode == 1  # the second is the same name: reported
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a', 'b', 'ident.safetensors', 'o']

def test_metadata_kept(tmp_path, ident):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes()
    ex = Image.Exif(); ex[0x0112] = 6; ex[0x0110] = 'Camera X'
    photo(tmp_path/'in'/'p.jpg', exif=ex.tobytes(), icc_profile=icc, quality=95)
    r = run(tmp_path/'in', '--model', ident, '--out', tmp_path/'o', '--quiet')
    o = Image.open(tmp_path/'o'/'p.jpg')
    assert r.returncode == 0 and o.size == (24, 32)  # written upright
    assert o.info.get('icc_profile') == icc and o.getexif().get(0x0110) == 'Camera X' and o.getexif().get(0x0112, 1) == 1

def test_broken_symlink_reported(tmp_path, ident):
    photo(tmp_path/'in'/'ok.png'); (tmp_path/'in'/'gone.png').symlink_to(tmp_path/'nowhere.png')
    r = run(tmp_path/'in', '--model', ident, '--out', tmp_path/'o', '--quiet')
    assert r.returncode == 1 and outputs(tmp_path/'o') == ['ok.png']
    assert 'gone.png\tbroken symbolic link' in (tmp_path/'o'/'restore_report.tsv').read_text()

def test_bad_ext_is_usage(tmp_path, ident):
    r = run(tmp_path, '--model', ident, '--ext', 'gif')
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and '--ext' in r.stderr
