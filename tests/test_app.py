"The web page (`lesson7ext-app`) as a real server: gradio_client on every endpoint, headless Chromium, bad uploads, load."
import os, shutil, signal, socket, subprocess, sys, threading, time, tomllib, urllib.request
from pathlib import Path
import numpy as np, pytest
from PIL import Image

root = Path(__file__).resolve().parents[1]
cset5 = root.parent/'shared'/'data'/'CSet5'
chromium = shutil.which('chromium') or shutil.which('chromium-browser')
args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']

def photos():
    "CSet5's small photos where ../shared/data is there, else the bundled ones (small crops)."
    if cset5.is_dir(): return [cset5/f'{n}.png' for n in ('bird', 'butterfly', 'head')]
    from lesson7ext.data import sample_photos
    return sample_photos()[:3]

def small(f, tmp, size=256):
    "A copy of `f` at most `size` px on its long side (the servers and commands here run on two cores)."
    im = Image.open(f).convert('RGB')
    im.thumbnail((size, size))
    dst = Path(tmp)/f'{Path(f).stem}.png'
    im.save(dst)
    return dst

def psnr(a, b):
    a, b = (np.asarray(Image.open(x).convert('RGB'), dtype=np.float64) for x in (a, b))
    assert a.shape == b.shape, (a.shape, b.shape)
    mse = ((a - b) ** 2).mean()
    return 100. if mse == 0 else 10 * np.log10(255 ** 2 / mse)

class Server:
    "`python -m lesson7ext.cli app` on a free port, in a subprocess; `stop` always ends it."
    def __init__(self, *extra):
        s = socket.socket(); s.bind(('127.0.0.1', 0)); self.port = s.getsockname()[1]; s.close()
        self.url = f'http://127.0.0.1:{self.port}/'
        self.proc = subprocess.Popen([sys.executable, '-m', 'lesson7ext.cli', 'app', '--port', str(self.port), *extra], cwd=root,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        while not seen or ('temporary files in ' not in seen[-1] and seen[-1]):  # warnings may come first
            seen.append(self.proc.stdout.readline())
        line = seen[-1]
        assert 'temporary files in ' in line, ''.join(seen)
        self.root = Path(line.split('temporary files in ')[1].split(')')[0])
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # drain the log
        for _ in range(240):
            try:
                urllib.request.urlopen(self.url, timeout=2).read(); return
            except OSError: time.sleep(0.5)
            assert self.proc.poll() is None, f'server exited with {self.proc.returncode}'
        raise TimeoutError(f'{self.url} did not answer')

    def files(self):
        "The files under the server's folder now: `os.walk` skips a folder the server's sweeper removes while it looks (`rglob` raised)."
        return [Path(d)/f for d, _, fs in os.walk(self.root) for f in fs]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try: self.proc.wait(30)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        return self.proc.returncode

def client(srv, tmp):
    from gradio_client import Client
    return Client(srv.url, verbose=False, download_files=str(tmp))

@pytest.fixture(scope='module')
def server():
    srv = Server('--ttl', '2')
    try: yield srv
    finally: srv.stop()

def run(cmd, *a):
    r = subprocess.run([shutil.which(cmd) or cmd, *map(str, a)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]

def test_endpoints_give_what_the_commands_write(server, tmp_path):
    from gradio_client import handle_file
    f = small(photos()[0], tmp_path)
    c = client(server, tmp_path/'dl')
    calls = dict(restore=(('photo', True, 1.), ['lesson7ext-restore', f, '--out', tmp_path/'restore', '--quiet']),
                 upscale=((), ['lesson7ext-restore', f, '--model', 'x4', '--out', tmp_path/'upscale', '--quiet']),
                 colorize=((21,), ['lesson7ext-colorize', f, '--out', tmp_path/'colorize', '--quiet']))
    for api, (params, cmd) in calls.items():
        (before, after), dl, msg = c.predict([handle_file(f)], *params, api_name=f'/{api}')
        assert msg.startswith('1 '), msg
        run(*cmd)
        assert Path(dl).name == f.name, dl
        assert psnr(dl, cmd[cmd.index('--out') + 1]/f.name) >= 50, api
        assert Image.open(before).size == Image.open(after).size == Image.open(dl).size
    (src := tmp_path/'src').mkdir(); shutil.copy(f, src)
    (before, after), dl, msg = c.predict([handle_file(f)], 'lesson7', 3, api_name='/crappify')
    run('lesson7ext-crappify', src, tmp_path/'crap', '--preset', 'lesson7', '--seed', 3, '--workers', 0, '--quiet')
    assert Path(dl).read_bytes() == next((tmp_path/'crap').glob(f'{f.stem}.*')).read_bytes()

def bad_uploads(d):
    "The uploads the page must refuse, each with the words its message must have."
    d.mkdir(exist_ok=True)
    (d/'notes.jpg').write_text('not an image at all')
    (d/'empty.png').write_bytes(b'')
    Image.new('RGB', (300, 200), 'red').save(d/'cut.jpg', quality=90)
    (d/'cut.jpg').write_bytes((d/'cut.jpg').read_bytes()[:-300])
    Image.new('1', (15000, 15000)).save(d/'bomb.png')  # 225 MP: over Pillow's decompression-bomb limit
    Image.new('1', (8000, 8000)).save(d/'huge.png')  # 64 MP: over the page's 50-MP limit
    return {d/'notes.jpg': 'not an image', d/'empty.png': 'empty file', d/'cut.jpg': 'truncated',
            d/'bomb.png': 'decompression bomb', d/'huge.png': 'over the upload limit of 50 MP'}

def odd_uploads(d, f):
    "Uploads the page restores, each with the note the report must have."
    d.mkdir(exist_ok=True)
    im = Image.open(f).convert('RGB')
    im.save(d/'png_named.jpg', format='png')
    Image.fromarray(np.asarray(im.convert('L'), dtype=np.uint16) * 257).save(d/'deep.png')
    im.convert('CMYK').save(d/'print.jpg', quality=95)
    im.save(d/'moving.gif', save_all=True, append_images=[im.rotate(90)], duration=100)
    im.save(d/'gif_named.jpg', format='gif')
    return {d/'png_named.jpg': 'png_named.jpg: written as png_named.png', d/'deep.png': '16-bit: restored and written at 16 bits',
            d/'print.jpg': 'CMYK: restored and written in RGB', d/'moving.gif': 'animated (2 frames): every frame restored, written back as a GIF',
            d/'gif_named.jpg': 'gif_named.jpg: written as gif_named.png'}

def test_bad_uploads_get_one_line_each(server, tmp_path):
    from gradio_client import handle_file
    c = client(server, tmp_path/'dl')
    for f, words in bad_uploads(tmp_path/'bad').items():
        with pytest.raises(Exception) as e: c.predict([handle_file(f)], 'photo', True, 1., api_name='/restore')
        assert words in str(e.value) and f.name in str(e.value), (f.name, str(e.value))
    good = small(photos()[1], tmp_path)
    for f, words in odd_uploads(tmp_path/'odd', good).items():
        _, dl, msg = c.predict([handle_file(f)], 'photo', True, 1., api_name='/restore')
        assert words in msg, (f.name, msg)
        assert Image.open(dl).size == Image.open(good).size
        if 'written as' in words: assert f'written as {Path(dl).name}' in msg and Image.open(dl).format == 'PNG', (dl, msg)  # the report says what came
        assert ': strength ' in msg, msg  # the strength it used
        if f.name == 'png_named.jpg': assert 'png_named.jpg: named .jpg but is a PNG file' in msg, msg
        if f.name == 'deep.png': assert np.asarray(Image.open(dl)).dtype == np.uint16, dl  # the page keeps 16 bits
        if f.name == 'moving.gif':
            with Image.open(dl) as g: assert g.format == 'GIF' and g.n_frames == 2, dl  # and a GIF's frames
    _, dl, msg = c.predict([handle_file(good), handle_file(tmp_path/'bad'/'notes.jpg')], 'photo', True, 1., api_name='/restore')
    assert msg.startswith('1 restored, 1 skipped') and Path(dl).suffix == '.zip', msg
    import zipfile
    with zipfile.ZipFile(dl) as z: assert sorted(z.namelist()) == [good.name, 'skipped_report.tsv']
    assert server.proc.poll() is None

def test_page_in_chromium(server, tmp_path):
    if chromium is None: pytest.fail('chromium not installed: apt-get install chromium (tools/test.sh does it)')
    from playwright.sync_api import sync_playwright
    f = tmp_path/'bird_q25.jpg'  # a photo as people have it: a JPEG
    Image.open(small(photos()[0], tmp_path, 384)).save(f, quality=25)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=args)
        try:
            page = b.new_page(viewport=dict(width=1280, height=900))
            page.goto(server.url)
            page.get_by_role('button', name='Restore', exact=True).wait_for(timeout=60_000)
            page.locator('input[type=file]').first.set_input_files(str(f))
            page.get_by_text(f.stem, exact=True).first.wait_for(timeout=60_000)  # uploaded: the page lists it
            page.get_by_role('button', name='Restore', exact=True).click()
            page.get_by_text('1 restored').wait_for(timeout=120_000)
            page.wait_for_function("() => [...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth > 0).length >= 2", timeout=60_000)
            shot = tmp_path/'app.png'
            page.screenshot(path=str(shot))
            if os.environ.get('LESSON7EXT_APP_SCREENSHOT'): shutil.copy(shot, os.environ['LESSON7EXT_APP_SCREENSHOT'])  # the docs' picture
            assert Image.open(shot).size == (1280, 900)
        finally: b.close()

def rss(pid):
    import psutil
    return psutil.Process(pid).memory_info().rss / 2**20

def test_load_and_faults(tmp_path):
    "Five bursts of 24 requests at once, 6 of them bad: each answered rightly, the server alive, its memory level, its temporary folder back."
    from gradio_client import handle_file
    srv = Server('--ttl', '2')
    try:
        goods = []
        for f in photos():  # JPEGs of 640x480: large enough that memory kept per request would show
            Image.open(f).convert('RGB').resize((640, 480)).save(tmp_path/f'{f.stem}.jpg', quality=75); goods.append(tmp_path/f'{f.stem}.jpg')
        ref = {}
        for f in goods:  # warm up, and the expected answer for each photo
            _, dl, _ = client(srv, tmp_path/'ref'/f.stem).predict([handle_file(f)], 'photo', True, 1., api_name='/restore')
            ref[f.name] = Path(dl).read_bytes()
        bad = list(bad_uploads(tmp_path/'bad'))
        bad += bad[:1]
        ends = []
        for b in range(5):
            work = [goods[i % 3] for i in range(18)] + bad
            answers = [None] * len(work)
            def ask(i):
                try: answers[i] = client(srv, tmp_path/'dl'/f'{b}_{i}').predict([handle_file(work[i])], 'photo', True, 1., api_name='/restore')
                except Exception as e: answers[i] = e
            ts = [threading.Thread(target=ask, args=(i,)) for i in range(len(work))]
            for t in ts: t.start()
            for t in ts: t.join(600)
            for f, a in zip(work, answers):
                if f in bad: assert isinstance(a, Exception) and f.name in str(a), (f.name, a)
                else: assert not isinstance(a, Exception) and Path(a[1]).read_bytes() == ref[f.name], (f.name, a)
            assert srv.proc.poll() is None
            ends.append(rss(srv.proc.pid))
        assert ends[-1] - ends[0] <= 50, [round(m) for m in ends]  # glibc kept each worker thread's freed memory until `trim_memory`
        deadline = time.monotonic() + 90  # the results' time to live (2 s), the uploads' grace (15 s) and a sweep: 19 s on an idle machine
        while [f.name for f in srv.files()] != ['owner'] and time.monotonic() < deadline: time.sleep(1)  # a loaded machine sweeps later
        assert [f.name for f in srv.files()] == ['owner'], srv.files()  # the page's pid (`remove_orphans`), nothing else
    finally: code = srv.stop()
    assert code == 0 and not srv.root.exists()

def test_usage_errors():
    for a, words in ((['--port', '0'], '--port'), (['--models', '/no/such/folder'], 'folder not found'), (['--concurrency', '0'], '--concurrency')):
        r = subprocess.run([sys.executable, '-m', 'lesson7ext.cli', 'app', *a], capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_space_requirements_match_the_package():
    "requirements.txt (what a Hugging Face Space installs) is pyproject's dependencies plus the `[app]` extra."
    p = tomllib.loads((root/'pyproject.toml').read_text())['project']
    want = set(p['dependencies']) | set(p['optional-dependencies']['app'])
    have = {l.strip() for l in (root/'requirements.txt').read_text().splitlines() if l.strip() and not l.startswith('#')}
    assert have == want, have ^ want

def test_video_tab(server, tmp_path):
    "The Video endpoint gives what `lesson7ext-restore clip.mp4` writes: every frame, the same sound."
    from gradio_client import handle_file
    import av
    from lesson7ext.video import synthetic_clip
    clip = synthetic_clip(tmp_path/'clip.mp4', n=16, size=(128, 96), rate=8, gop=8)
    play, dl, msg = client(server, tmp_path/'dl').predict(handle_file(clip), 'photo', '18', api_name='/video')
    assert msg.startswith('1 restored') and Path(dl).suffix == '.mp4' and play, msg
    assert 'clip.mp4: strength 0.00' in msg and 'left as it is' in msg, msg  # clean footage: the page says why it comes back as it went
    run('lesson7ext-restore', clip, '--out', tmp_path/'cli', '--quiet')
    def frames(f):
        with av.open(str(f)) as c: return [fr.to_ndarray(format='rgb24') for fr in c.decode(video=0)]
    a, b = frames(dl), frames(tmp_path/'cli'/'clip.mp4')
    assert len(a) == len(b) == 16 and all((x == y).all() for x, y in zip(a, b))
    heavy = synthetic_clip(tmp_path/'heavy.mp4', n=16, size=(128, 96), rate=8, gop=8, crf=40)
    play, dl, msg = client(server, tmp_path/'dl3').predict(handle_file(heavy), 'auto', 'auto', api_name='/video')  # the page's defaults: the codec picks
    assert msg.startswith('1 restored') and 'heavy.mp4: strength' in msg and 'from x264 CRF 40' in msg and 'written at CRF 12' in msg, msg
    run('lesson7ext-restore', heavy, '--out', tmp_path/'cli', '--quiet')  # the page writes what the CLI writes
    assert all((x == y).all() for x, y in zip(frames(dl), frames(tmp_path/'cli'/'heavy.mp4')))
    (tmp_path/'notes.mp4').write_text('not a video')
    with pytest.raises(Exception) as e: client(server, tmp_path/'dl2').predict(handle_file(tmp_path/'notes.mp4'), 'photo', '18', api_name='/video')
    assert 'notes.mp4' in str(e.value) and 'not a video' in str(e.value), str(e.value)
