"Nothing lost (issue 40): every input given back as it came, through `lesson7ext-restore` and the page's call, and never written over."
import hashlib, io, os, signal, subprocess, sys, time
from pathlib import Path
import cv2, numpy as np, pytest, tifffile, torch
from PIL import Image, JpegImagePlugin

from lesson7ext.data import sample_photos
from lesson7ext.formats import exif_thumbnail, with_thumbnail
from lesson7ext.batch import restore_files, journal_name

PUBLISHED = Path(__file__).resolve().parents[1].parent/'shared'/'data'/'published'
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4">'
       b'<dc:subject><rdf:Bag><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>')

def run(*args, timeout=600):
    return subprocess.run(['lesson7ext-restore', *map(str, args)], capture_output=True, text=True, timeout=timeout)

def photo(w=160, h=120, name='coffee'):
    return Image.open(sample_photos([name])[0]).convert('RGB').resize((w, h), Image.Resampling.LANCZOS)

def digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob('*')) if p.is_file()}

def ramp16(h=48, w=700):
    "A 16-bit RGB picture with 700 levels a channel: what 8 bits would round away."
    x = np.linspace(0, 65535, w)[None].repeat(h, 0)
    return np.stack([x, x[:, ::-1], (x / 65535) ** 2 * 65535], -1).round().astype(np.uint16)

def levels(a): return min(len(np.unique(a[..., c])) for c in range(a.shape[2])) if a.ndim == 3 else len(np.unique(a))

# --- never over an input, and bad --out refused before any work

@pytest.fixture
def folder(tmp_path):
    d = tmp_path/'photos'; d.mkdir()
    photo().save(d/'a.jpg', quality=60); photo(name='chelsea').save(d/'b.png')
    return d

@pytest.mark.parametrize('where', ['same', 'inside', 'symlink', 'dot'])
def test_output_in_the_input_folder_is_refused_and_inputs_unchanged(folder, tmp_path, where):
    before = digests(folder)
    if where == 'symlink': os.symlink(folder, tmp_path/'link')
    out = dict(same=folder, inside=folder/'restored', symlink=tmp_path/'link', dot=Path(str(folder) + '/./'))[where]
    t0 = time.time()
    r = run(folder, '--out', out)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and 'input folder' in lines[0] and str(folder.name) in lines[0], r.stderr
    assert time.time() - t0 < 60 and digests(folder) == before  # nothing written, the originals' bytes as they were
    assert not (folder/'restored').exists()

def test_output_given_as_a_symlink_input_folder(folder, tmp_path):
    os.symlink(folder, tmp_path/'link')
    r = run(tmp_path/'link', '--out', folder)
    assert r.returncode == 2 and 'input folder' in r.stderr, r.stderr

def _read_only_dir(tmp_path):
    "A folder on a read-only filesystem (a tmpfs mounted read-only where we may mount), else a folder a non-root user cannot write."
    d = tmp_path/'ro'; d.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', str(d)], capture_output=True).returncode == 0: return d, True
        return Path('/proc/lesson7ext-out'), False  # /proc takes no new files, even from root
    d.chmod(0o555)
    return d, False

def test_out_that_is_a_file_or_read_only_is_one_line_exit_2(folder, tmp_path):
    (tmp_path/'afile.txt').write_text('notes')
    for out in (tmp_path/'afile.txt', tmp_path/'afile.txt'/'sub'):
        r = run(folder, '--out', out)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and 'afile.txt' in lines[0] and 'is a file' in lines[0], r.stderr
        assert 'Traceback' not in r.stderr
    ro, mounted = _read_only_dir(tmp_path)
    try:
        r = run(folder, '--out', ro/'restored')
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and 'not writable' in lines[0] and str(ro) in lines[0], r.stderr
    finally:
        if mounted: subprocess.run(['umount', str(ro)])

# --- 16 bits kept

@pytest.fixture
def deep(tmp_path):
    d = tmp_path/'deep'; d.mkdir()
    a = ramp16()
    cv2.imwrite(str(d/'rgb16.png'), a[..., ::-1])
    tifffile.imwrite(d/'rgb16.tif', a, photometric='rgb', compression='zlib')
    Image.fromarray(a[..., 0]).save(d/'grey16.png')  # Pillow's I;16
    return d, a

@pytest.mark.parametrize('strength', ['0', '1'])
def test_16_bit_files_come_back_16_bit(deep, tmp_path, strength):
    d, a = deep
    r = run(d, '--out', tmp_path/'o', '--strength', strength, '--quiet')
    assert r.returncode == 0, r.stderr
    for f in ('rgb16.png', 'rgb16.tif', 'grey16.png'):
        o = tifffile.imread(tmp_path/'o'/f) if f.endswith('.tif') else cv2.imread(str(tmp_path/'o'/f), cv2.IMREAD_UNCHANGED)
        o = o if f.endswith('.tif') or o.ndim == 2 else o[..., ::-1]
        src = a[..., 0] if f.startswith('grey') else a
        assert o.dtype == np.uint16 and o.shape == src.shape, (f, o.dtype, o.shape)
        assert levels(o) > 256, (f, levels(o))  # more than 8 bits' worth in every channel
        if strength == '0': assert np.array_equal(o, src), f  # nothing rounded on the way
        else: assert np.abs(o.astype(float) - src).mean() < 0.03 * 65535, f

def test_16_bit_to_jpeg_says_so(deep, tmp_path):
    d, _ = deep
    r = run(d/'rgb16.png', '--out', tmp_path/'o', '--ext', 'jpg')
    assert r.returncode == 0 and 'rgb16.png: 16-bit: written as 8-bit' in r.stderr, r.stderr

# --- animated GIF back as a GIF

def test_animated_gif_comes_back_a_gif(tmp_path):
    d = tmp_path/'g'; d.mkdir()
    fr = [photo(64, 48, n).quantize(48) for n in ('coffee', 'chelsea', 'astronaut')]
    fr[0].save(d/'anim.gif', save_all=True, append_images=fr[1:], duration=[70, 140, 210], loop=2)
    r = run(d, '--out', tmp_path/'o')
    assert r.returncode == 0, r.stderr
    out = tmp_path/'o'/'anim.gif'
    assert out.exists() and not (tmp_path/'o'/'anim.mp4').exists()
    assert str(out) in r.stderr and '3 frames' in r.stderr  # the terminal names what was written
    with Image.open(out) as g, Image.open(d/'anim.gif') as s:
        assert g.format == 'GIF' and g.n_frames == 3 and g.info.get('loop') == 2
        durs = []
        for i in range(3): g.seek(i); durs.append(g.info['duration'])
        assert durs == [70, 140, 210]
        g.seek(0); s.seek(0)
        assert len(g.getpalette()) // 3 <= len(s.getpalette()) // 3

# --- a JPEG's own settings, XMP, the thumbnail, CMYK

def test_jpeg_keeps_its_tables_subsampling_progressive_xmp_and_thumbnail(tmp_path):
    d = tmp_path/'cam'; d.mkdir()
    thumb = io.BytesIO(); Image.new('RGB', (40, 30), (255, 0, 0)).save(thumb, 'JPEG')  # a red thumbnail of a photo that is not red
    ex = Image.Exif(); ex[0x010f] = 'Camera'; ex[0x0112] = 1
    photo(320, 240).save(d/'cam.jpg', quality=93, subsampling='4:2:2', progressive=True, xmp=XMP, exif=with_thumbnail(ex.tobytes(), thumb.getvalue()))
    r = run(d, '--out', tmp_path/'o', '--quiet')
    assert r.returncode == 0, r.stderr
    with Image.open(d/'cam.jpg') as s, Image.open(tmp_path/'o'/'cam.jpg') as o:
        assert o.quantization == s.quantization  # the same tables: the same quality
        assert JpegImagePlugin.get_sampling(o) == JpegImagePlugin.get_sampling(s) == 1  # 4:2:2
        assert o.info.get('progressive') and o.info.get('progression')
        x = o.getxmp()['xmpmeta']['RDF']['Description']
        assert x['Rating'] == '4' and 'holiday' in str(x['subject'])
        assert o.getexif()[0x010f] == 'Camera'
        t = exif_thumbnail(o.info['exif'])
        assert t is not None and t != thumb.getvalue()
        ti = Image.open(io.BytesIO(t)).convert('RGB')
        assert ti.size == (40, 30)
        expect = np.asarray(o.convert('RGB').resize((40, 30), Image.Resampling.LANCZOS), dtype=float)
        assert np.abs(np.asarray(ti, dtype=float) - expect).mean() < 12  # made from the restored photo, not the red one

def test_xmp_kept_in_png_and_tiff(tmp_path):
    d = tmp_path/'x'; d.mkdir()
    photo().save(d/'a.tif', tiffinfo={700: XMP})
    from PIL.PngImagePlugin import PngInfo
    pi = PngInfo(); pi.add_itxt('XML:com.adobe.xmp', XMP.decode())
    photo().save(d/'b.png', pnginfo=pi)
    r = run(d, '--out', tmp_path/'o', '--quiet')
    assert r.returncode == 0, r.stderr
    for f in ('a.tif', 'b.png'):
        assert Image.open(tmp_path/'o'/f).getxmp()['xmpmeta']['RDF']['Description']['Rating'] == '4', f

def test_cmyk_jpeg_conversion_is_said(tmp_path):
    d = tmp_path/'c'; d.mkdir()
    photo().convert('CMYK').save(d/'print.jpg', quality=90)
    r = run(d, '--out', tmp_path/'o')
    assert r.returncode == 0 and 'print.jpg: CMYK: restored and written in RGB' in r.stderr, r.stderr
    assert Image.open(tmp_path/'o'/'print.jpg').mode == 'RGB'

# --- every skip on the terminal; replaced said; strength reported

def test_each_skip_is_on_the_terminal_with_its_reason(tmp_path):
    d = tmp_path/'s'; d.mkdir()
    photo().save(d/'good.png')
    (d/'bad.jpg').write_text('not a photo'); (d/'cut.png').write_bytes((d/'good.png').read_bytes()[:300])
    r = run(d, tmp_path/'gone.png', '--out', tmp_path/'o', '--quiet')
    assert r.returncode == 1
    assert f'skipped {d/"bad.jpg"}: not an image Pillow can read' in r.stderr and f'skipped {tmp_path/"gone.png"}: file not found' in r.stderr, r.stderr
    assert f'skipped {d/"cut.png"}: corrupt or truncated' in r.stderr
    for i in range(23): (d/f'bad{i:02d}.jpg').write_text('not a photo')
    r = run(d, '--out', tmp_path/'o2', '--quiet')
    skips = [l for l in r.stderr.splitlines() if l.startswith('skipped ') and 'and reasons' not in l]
    assert r.returncode == 1 and len(skips) == 20 and '... and 5 more skipped' in r.stderr, r.stderr
    assert (tmp_path/'o2'/'restore_report.tsv').read_text().count('\tskipped\t') == 25

def test_rerun_says_replaced_and_report_and_verbose_give_the_strength(folder, tmp_path):
    r = run(folder, '--out', tmp_path/'o', '--quiet')
    assert r.returncode == 0 and ' replaced (' not in r.stdout
    rep = (tmp_path/'o'/'restore_report.tsv').read_text().splitlines()
    assert rep[0] == 'file\treason\tstatus\toutput\tstrength' and len(rep) == 3
    assert all(float(l.split('\t')[4]) >= 0 for l in rep[1:])
    r = run(folder, '--out', tmp_path/'o', '--strength', '0.5', '--verbose')
    assert r.returncode == 0 and '2 replaced' in r.stdout, r.stdout
    assert 'a.jpg: strength 0.500' in r.stderr and 'b.png: strength 0.500' in r.stderr

# --- --resume: killed mid-folder, every file written once

def test_resume_after_a_kill_writes_each_file_once(tmp_path):
    d = tmp_path/'many'; d.mkdir()
    for i in range(10): photo(480, 360, ('coffee', 'chelsea', 'astronaut')[i % 3]).rotate(i * 7).save(d/f'p{i}.png')
    whole = run(d, '--out', tmp_path/'whole', '--model', 'lesson7', '--quiet')
    assert whole.returncode == 0, whole.stderr
    out = tmp_path/'part'
    p = subprocess.Popen(['lesson7ext-restore', str(d), '--out', str(out), '--model', 'lesson7', '--quiet'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, journal = time.time(), out/journal_name
    while time.time() - t0 < 300 and (not journal.exists() or len(journal.read_text().splitlines()) < 3): time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    done = journal.read_text().splitlines()
    assert 3 <= len(done) < 10, done
    r = run(d, '--out', out, '--model', 'lesson7', '--resume', '--quiet')
    assert r.returncode == 0 and f'{len(done)} already done' in r.stdout, r.stdout
    lines = journal.read_text().splitlines()
    assert len(lines) == 10 and len({l.split('\t')[0] for l in lines}) == 10  # every file once, none twice
    assert not list(out.glob('.*.tmp'))  # the killed write left no half file
    for i in range(10): assert (out/f'p{i}.png').read_bytes() == (tmp_path/'whole'/f'p{i}.png').read_bytes(), i

def test_resume_redoes_outputs_of_another_strength(folder, tmp_path):
    assert run(folder, '--out', tmp_path/'o', '--quiet', '--strength', '0.3').returncode == 0
    r = run(folder, '--out', tmp_path/'o', '--quiet', '--strength', '0.3', '--resume')
    assert '2 already done' in r.stdout and '0 restored' in r.stdout, r.stdout
    r = run(folder, '--out', tmp_path/'o', '--quiet', '--strength', '0.6', '--resume')
    assert '2 restored' in r.stdout and '2 replaced' in r.stdout, r.stdout

# --- the page's call follows the same rules

def test_page_call_keeps_16_bits_and_gifs_and_says_the_strength(deep, tmp_path):
    d, a = deep
    fr = [photo(40, 30, n).quantize(16) for n in ('coffee', 'chelsea')]
    fr[0].save(d/'anim.gif', save_all=True, append_images=fr[1:], duration=[90, 30], loop=0)
    r = restore_files('photo', [d/'rgb16.png', d/'anim.gif'], tmp_path/'job', quiet=True, verbose=True, strength=0)  # what the Restore tab calls
    o = cv2.imread(str(tmp_path/'job'/'rgb16.png'), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert np.array_equal(o, a)
    with Image.open(tmp_path/'job'/'anim.gif') as g: assert g.n_frames == 2
    assert 'rgb16.png: strength 0.000' in r['notes'] and any(n.startswith('precision: ') for n in r['notes'])
    with pytest.raises(ValueError, match='input folder'): restore_files('photo', [d], d, quiet=True)

# --- published files: their own quality

def _spandrel(fn, x):
    from spandrel import ModelLoader
    with torch.no_grad(): return ModelLoader().load_from_file(str(fn)).eval()(x[None])[0]

needs_published = pytest.mark.skipif(not PUBLISHED.is_dir(), reason='../shared/data/published is not here')

@needs_published
@pytest.mark.parametrize('name,mode', [('dncnn_25.pth', 'L'), ('dncnn_color_blind.pth', 'RGB'), ('realesr-animevideov3.pth', 'RGB')])
def test_published_file_through_the_cli_equals_spandrel_fp32(tmp_path, name, mode):
    d = tmp_path/'in'; d.mkdir()
    img = photo(96, 72).convert(mode)
    a = np.asarray(img, dtype=np.float64)
    noisy = np.clip(a + np.random.default_rng(0).normal(0, 20, a.shape), 0, 255).round().astype(np.uint8)
    Image.fromarray(noisy).save(d/'n.png')
    r = run(d, '--out', tmp_path/'o', '--model', PUBLISHED/name)
    assert r.returncode == 0, r.stderr
    assert 'precision: fp32' in r.stderr, r.stderr  # auto: fp32 for a published net, said
    out = np.asarray(Image.open(tmp_path/'o'/'n.png'), dtype=np.float64)
    x = torch.from_numpy(noisy / 255.).float()
    x = x[None] if x.ndim == 2 else x.permute(2, 0, 1)
    ref = np.round(_spandrel(PUBLISHED/name, x).clamp(0, 1).numpy() * 255)
    ref = ref[0] if mode == 'L' else ref.transpose(1, 2, 0)
    assert out.shape == ref.shape and np.abs(out - ref).max() <= 1, np.abs(out - ref).max()

@needs_published
def test_whole_model_pickle_is_refused_in_one_line_and_nothing_runs(folder, tmp_path):
    r = run(folder, '--out', tmp_path/'o', '--model', PUBLISHED/'dncnn_sigma25_wholemodel.pth')
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert '__main__.DnCNN' in lines[0] and 'nothing in it was run' in lines[0]
    assert '\x1b' not in lines[0] and 'weights_only' not in lines[0] and 'trust' not in lines[0]
    assert not (tmp_path/'o').exists()

def test_bad_model_files_say_what_they_are(folder, tmp_path):
    (tmp_path/'lfs.pth').write_text('version https://git-lfs.github.com/spec/v1\noid sha256:0451a70de9b672ae\nsize 2224903\n')
    (tmp_path/'page.pth').write_text('<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>\n')
    for f, what in (('lfs.pth', 'a Git LFS pointer'), ('page.pth', 'an HTML page')):
        r = run(folder, '--out', tmp_path/'o', '--model', tmp_path/f)
        assert r.returncode == 2 and what in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

@needs_published
def test_precision_option(tmp_path, folder):
    r = run(folder/'b.png', '--out', tmp_path/'o', '--model', PUBLISHED/'dncnn_color_blind.pth', '--precision', 'bf16')
    assert r.returncode == 0 and 'precision: bf16' in r.stderr, r.stderr
    r = run(folder, '--out', tmp_path/'o', '--precision', 'fp16x')
    assert r.returncode == 2 and '--precision' in r.stderr

def test_unchanged_photo_is_its_own_bytes_and_a_coarse_jpeg_is_not_requantized(tmp_path):
    d = tmp_path/'q'; d.mkdir()
    ex = Image.Exif(); ex[0x0112] = 6  # shown rotated: the copy keeps that too
    photo(200, 150).save(d/'camera.jpg', quality=97, exif=ex.tobytes(), xmp=XMP)  # photo's card: strength 0 at q95 and above
    photo(200, 150, 'chelsea').save(d/'web.jpg', quality=30)
    r = run(d, '--out', tmp_path/'o', '--verbose')
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'o'/'camera.jpg').read_bytes() == (d/'camera.jpg').read_bytes()  # nothing re-encoded, nothing lost
    assert 'camera.jpg: strength 0.000' in r.stderr
    assert 'web.jpg: JPEG quality 30: written at quality 95' in r.stderr, r.stderr
    with Image.open(tmp_path/'o'/'web.jpg') as o: assert o.quantization != Image.open(d/'web.jpg').quantization
    clean = np.asarray(photo(200, 150, 'chelsea'), dtype=float)
    ps = lambda f: 10 * np.log10(255 ** 2 / ((np.asarray(Image.open(f).convert('RGB'), dtype=float) - clean) ** 2).mean())
    assert ps(tmp_path/'o'/'web.jpg') > ps(d/'web.jpg') + 0.3  # the file written is better than the file read
