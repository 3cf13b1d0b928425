"crappify_folder and open_image on real photos and on every kind of bad input."
import os, shutil
import numpy as np, pytest
from PIL import Image

from lesson7ext.images import open_image, BadImage

from lesson7ext.crappify import lesson7

from lesson7ext.folder import crappify_folder, report_name, file_seed

def read_report(dst):
    lines = (dst/report_name).read_text().splitlines()
    assert lines[0] == 'file\treason'
    return dict(l.split('\t', 1) for l in lines[1:])

def test_corpus_outcomes(corpus, tmp_path):
    src, exp = corpus
    dst = tmp_path/'out'
    r = crappify_folder(src, dst, 'lesson7', n_workers=2, progress=False)
    assert r['total'] == len(exp['good']) + len(exp['odd']) + len(exp['bad'])
    rep = read_report(dst)
    assert set(rep) == set(exp['bad'])
    for f, why in exp['bad'].items(): assert why in rep[f], (f, rep[f])
    for f in exp['good'] + exp['odd']:
        out = (dst/f).with_suffix('.jpg')
        im = Image.open(out); im.load()
        assert im.mode == 'RGB' and min(im.size) == 96, (f, im.mode, im.size)
    assert not list(dst.rglob('*.tmp'))

@pytest.mark.parametrize('draft', [False, True])
def test_exif_rotation(corpus, draft):
    src, _ = corpus
    im = open_image(src/'odd'/'rotated.jpg', draft_fn=(lambda s: (s[0] // 4, s[1] // 4)) if draft else None)
    assert im.size[0] < im.size[1]                  # landscape file, portrait photo
    a = np.asarray(im).astype(int)
    assert a[:4].mean() > 200 and a[-4:].mean() < 50  # white half ends on top after a 90 degree turn

def test_modes(corpus):
    src, _ = corpus
    assert np.asarray(open_image(src/'odd'/'white16.png')).min() == 255  # 16-bit white stays white, not clipped
    rgba = np.asarray(open_image(src/'odd'/'rgba.png')).astype(int)
    assert (rgba[:, :60] == [255, 0, 0]).all() and (rgba[:, 70:] == 255).all()  # transparent -> white, not black
    assert open_image(src/'odd'/'cmyk.jpg').mode == 'RGB'
    g = np.asarray(open_image(src/'odd'/'gray.png')).astype(int)
    assert (g[..., 0] == g[..., 1]).all()
    assert abs(np.asarray(open_image(src/'odd'/'palette.png')).astype(int).mean() - np.asarray(open_image(src/'good'/'coffee.png')).mean()) < 10

@pytest.mark.parametrize('name,why', [('empty.jpg', 'empty'), ('notes.png', 'not an image'), ('truncated.jpg', 'truncated'),
                                      ('bomb.png', 'decompression bomb')])
def test_bad_inputs_raise_one_line(corpus, name, why):
    src, _ = corpus
    with pytest.raises(BadImage) as e: open_image(src/'bad'/name)
    assert why in str(e.value) and '\n' not in str(e.value)

def test_pixel_limit(corpus):
    src, _ = corpus
    with pytest.raises(BadImage, match='over the limit'): open_image(src/'good'/'coffee.png', max_pixels=1000)

def test_deterministic_across_workers(corpus, tmp_path):
    src, exp = corpus
    a, b = tmp_path/'a', tmp_path/'b'
    crappify_folder(src, a, 'lesson7', n_workers=0, seed=3, progress=False)
    crappify_folder(src, b, 'lesson7', n_workers=2, seed=3, progress=False)
    for f in exp['good'] + exp['odd']:
        fa = (a/f).with_suffix('.jpg')
        assert fa.read_bytes() == (b/f).with_suffix('.jpg').read_bytes(), f
    c = tmp_path/'c'
    crappify_folder(src, c, 'lesson7', n_workers=0, seed=4, progress=False)
    assert (a/'good'/'coffee.jpg').read_bytes() != (c/'good'/'coffee.jpg').read_bytes()

def test_resume_skips_done_and_cleans_temp(corpus, tmp_path):
    src, exp = corpus
    dst = tmp_path/'out'
    crappify_folder(src, dst, 'lesson7', n_workers=0, progress=False)
    keep = (dst/'good'/'chelsea.jpg').stat().st_mtime_ns
    (dst/'good'/'coffee.jpg').unlink()
    (dst/'good'/'.coffee.jpg.999.tmp').write_bytes(b'half')  # left by a killed run
    r = crappify_folder(src, dst, 'lesson7', n_workers=0, progress=False)
    assert r['written'] == 1 and r['already_done'] == len(exp['good']) + len(exp['odd']) - 1
    assert (dst/'good'/'chelsea.jpg').stat().st_mtime_ns == keep
    assert not list(dst.rglob('*.tmp'))

def test_other_presets(corpus, tmp_path):
    src, exp = corpus
    r = crappify_folder(src/'good', tmp_path/'bw', 'bw', n_workers=0, progress=False)
    assert r['written'] == 3
    im = np.asarray(Image.open(tmp_path/'bw'/'chelsea.png')).astype(int)
    assert (im[..., 0] == im[..., 2]).all()
    r = crappify_folder(src/'good', tmp_path/'real', 'realistic', n_workers=0, progress=False)
    assert r['written'] == 3 and not r['skipped']

def test_refuses_bad_folders(corpus, tmp_path):
    src, _ = corpus
    with pytest.raises(FileNotFoundError): crappify_folder(tmp_path/'nope', tmp_path/'out')
    with pytest.raises(ValueError, match='inside the source'): crappify_folder(src, src/'out')

def test_file_seed():
    assert file_seed(0, 'a/b.png') == file_seed(0, 'a/b.png') != file_seed(0, 'a/c.png') != file_seed(1, 'a/b.png')

FORK_AFTER_VIDEO = r'''
import sys, threading, numpy as np
from PIL import Image
from lesson7ext.degrade import codec_frames
from lesson7ext.video import synthetic_clip, decode_frames, frame_rgb
from lesson7ext.folder import crappify_folder
src, dst = sys.argv[1:3]
codec_frames([np.zeros((64, 96, 3), np.uint8)] * 2, 30)            # the codec round trip's colour conversions
for f in decode_frames(synthetic_clip(src + '/../clip.mp4', n=3)): frame_rgb(f)  # and the video path's
for k in range(4): Image.fromarray(np.full((120, 160, 3), 40 * k, np.uint8)).save(f'{src}/{k}.png')
r = {}
t = threading.Thread(target=lambda: r.update(crappify_folder(src, dst, 'lesson7', n_workers=2, progress=False)))
t.start(); t.join()
print(r['written'])
'''

def test_fork_after_video_from_another_thread(tmp_path):
    "Video frames converted in one thread, then the worker processes forked from another (a notebook runner, a web server) start and finish."
    import subprocess, sys
    (tmp_path/'src').mkdir()
    r = subprocess.run([sys.executable, '-c', FORK_AFTER_VIDEO, str(tmp_path/'src'), str(tmp_path/'out')],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-1] == '4'
