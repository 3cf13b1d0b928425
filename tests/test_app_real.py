"The web page with what people upload: camera-sized photos and a 1080p clip through every tab of a real server; a killed server's folder removed at the next start."
import functools, signal, tempfile, threading, time
from pathlib import Path
import numpy as np, pytest
from PIL import Image, ImageCms
from test_app import Server, client

MAKE = 'lesson7ext test camera'

@functools.cache
def icc() -> bytes: return ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes()  # once: the profile carries its time of making

def camera_photo(dst, size=(4000, 3000), fmt='JPEG'):
    "A photo as a camera or phone gives it, made here: a bundled photo enlarged to `size` with grain, EXIF (make, date) and an sRGB ICC profile."
    from lesson7ext.data import sample_photos
    im = Image.open(sample_photos(['chelsea'])[0]).convert('RGB').resize(size, Image.Resampling.BICUBIC)
    a = np.asarray(im, np.int16) + np.random.default_rng(0).normal(0, 4, (size[1], size[0], 1)).astype(np.int16)
    ex = Image.Exif(); ex[0x010F] = MAKE; ex[0x0132] = '2026:12:04 12:00:00'
    Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(dst, fmt, exif=ex.tobytes(), icc_profile=icc(), **(dict(quality=90) if fmt == 'JPEG' else {}))
    return Path(dst)

def check_whole(dl, size, fmt):
    "The download is a whole `fmt` image of `size` that kept the upload's EXIF and ICC profile."
    with Image.open(dl) as im:
        im.load()  # every byte decodes: nothing truncated
        assert (im.format, im.size) == (fmt, size), (dl, im.format, im.size)
        assert im.getexif().get(0x010F) == MAKE and im.info.get('icc_profile') == icc(), dl

def check_previews(pair, size):
    "The comparison's two pictures: at most 2048 px on the long side, the result's shape."
    for p in pair:
        w, h = Image.open(p).size
        assert max(w, h) == min(2048, max(size)) and abs(w / h - size[0] / size[1]) < 0.01, (p, w, h)

@pytest.fixture(scope='module')
def server():
    srv = Server('--ttl', '30')
    try: yield srv
    finally: srv.stop()

@pytest.fixture(scope='module')
def uploads(tmp_path_factory):
    d = tmp_path_factory.mktemp('uploads')
    return camera_photo(d/'camera.jpg'), camera_photo(d/'wide.png', (4000, 1200), 'PNG')

@pytest.mark.parametrize('tab', ['restore', 'colorize'])
def test_camera_photos_restore_and_colorize(server, uploads, tab, tmp_path):
    from gradio_client import handle_file
    c = client(server, tmp_path/'dl')
    params = ('photo', True, 1.) if tab == 'restore' else (21,)
    for f, fmt in zip(uploads, ('JPEG', 'PNG')):
        size = Image.open(f).size
        pair, dl, msg = c.predict([handle_file(f)], *params, api_name=f'/{tab}')
        assert msg.startswith('1 ') and Path(dl).name == f.name, msg
        check_whole(dl, size, fmt)
        check_previews(pair, size)
    assert server.proc.poll() is None

def test_camera_photos_crappify(server, uploads, tmp_path):
    from gradio_client import handle_file
    c = client(server, tmp_path/'dl')
    for f in uploads:
        pair, dl, msg = c.predict([handle_file(f)], 'lesson7', 3, api_name='/crappify')
        w, h = Image.open(f).size
        with Image.open(dl) as im:
            im.load()  # the lesson's crappifier writes a JPEG at a random quality whatever came in: that is the degradation
            assert im.format == 'JPEG' and min(im.size) == 96 and abs(im.width / im.height - w / h) < 0.02, (im.format, im.size)
        assert Image.open(pair[0]).size == Image.open(pair[1]).size

def test_upscale_large_results_and_limit(server, uploads, tmp_path):
    "x4 of a 1000x750 JPEG is a whole 12-MP JPEG; a camera photo, whose result would be 192 MP, is refused at once by name."
    from gradio_client import handle_file
    c = client(server, tmp_path/'dl')
    src = tmp_path/'phone_small.jpg'
    Image.open(uploads[0]).resize((1000, 750)).save(src, quality=90, exif=Image.open(uploads[0]).getexif().tobytes(), icc_profile=icc())
    pair, dl, msg = c.predict([handle_file(src)], api_name='/upscale')
    assert msg.startswith('1 upscaled'), msg
    check_whole(dl, (4000, 3000), 'JPEG')
    check_previews(pair, (4000, 3000))
    for f in uploads:
        t = time.time()
        with pytest.raises(Exception) as e: c.predict([handle_file(f)], api_name='/upscale')
        assert f.name in str(e.value) and 'over the limit of 50 MP for a result' in str(e.value), str(e.value)
        assert time.time() - t < 30  # refused from the header, before any work
    assert server.proc.poll() is None

def test_video_1080p(server, tmp_path):
    "A 1080p phone-like clip (rotated, with sound, grainy enough for the model to work on it) comes back whole."
    from gradio_client import handle_file
    from lesson7ext.video import synthetic_clip, probe_video
    pan = camera_photo(tmp_path/'pan.png', (3840, 2160), 'PNG')
    a = np.asarray(Image.open(pan), np.int16) + np.random.default_rng(1).normal(0, 12, (2160, 3840, 3)).astype(np.int16)
    Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(pan)
    clip = synthetic_clip(tmp_path/'phone.mp4', n=6, size=(1920, 1080), rate=6, gop=6, rotation=90, photo=pan)
    play, dl, msg = client(server, tmp_path/'dl').predict(handle_file(clip), 'photo', 18, api_name='/video')
    assert msg.startswith('1 restored') and Path(dl).name == 'phone.mp4' and play, msg
    assert 'left as it is' not in msg, msg  # grainy footage: the model ran on every 1080p frame
    a, b = probe_video(clip), probe_video(dl)
    assert (b['width'], b['height'], b['rotation'], len(b['pts'])) == (1920, 1080, 90, 6), b
    import av
    with av.open(str(dl)) as c: assert len(c.streams.audio) == 1

def test_killed_server_folder_removed_at_next_start(tmp_path):
    "SIGKILL mid-request leaves the page's folder with the upload in it; the next start removes it, and only folders of dead processes."
    from gradio_client import handle_file
    keep = Path(tempfile.mkdtemp(prefix='lesson7ext-app-'))  # names no owner: not ours to judge
    srv = Server()
    try:
        f = camera_photo(tmp_path/'camera.jpg', (2000, 1500))
        threading.Thread(target=lambda: client(srv, tmp_path/'dl').submit([handle_file(f)], 'photo', True, 1., api_name='/restore'), daemon=True).start()
        for _ in range(600):
            if any(p.name == 'camera.jpg' for p in srv.files()): break
            time.sleep(0.1)
        else: pytest.fail('the upload never reached the server')
        srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
        killed = srv.root
        assert any(p.name == 'camera.jpg' for p in killed.rglob('*'))
    finally: srv.stop()
    srv2 = Server()
    try:
        assert not killed.exists(), list(killed.rglob('*'))
        assert keep.exists() and srv2.root.exists()
    finally:
        srv2.stop(); keep.rmdir()
    assert not srv2.root.exists()
