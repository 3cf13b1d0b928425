"GAN, WGAN and colorization from the command line: real runs on tiny settings, bad usage, bad files."
import subprocess
import numpy as np, pytest
from PIL import Image

from lesson7ext.data import sample_photos
from lesson7ext.zoo import RestoreUnet, export_restorer, load_restorer

def run(*args, timeout=600):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)

@pytest.fixture
def color_model(tmp_path):
    return export_restorer(RestoreUnet(nf=8), tmp_path/'m.safetensors')

def test_colorize_cli(tmp_path, color_model):
    src = tmp_path/'in'; src.mkdir()
    Image.open(sample_photos(['camera'])[0]).save(src/'camera.png')
    Image.open(sample_photos(['coffee'])[0]).convert('L').save(src/'coffee.jpg')
    (src/'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 20)
    r = run('lesson7ext-colorize', str(src), '--model', str(color_model), '--out', str(tmp_path/'o'), '--quiet', '--render-factor', '10')
    assert r.returncode == 1 and '2 colorized, 1 skipped' in r.stdout and 'Traceback' not in r.stderr, (r.stdout, r.stderr)
    assert sorted(p.name for p in (tmp_path/'o').iterdir() if p.suffix != '.tsv') == ['camera.png', 'coffee.jpg']
    out, gray = Image.open(tmp_path/'o'/'camera.png'), Image.open(src/'camera.png')
    assert out.mode == 'RGB' and out.size == gray.size
    y = np.asarray(out.convert('L'), dtype=int) - np.asarray(gray, dtype=int)
    assert np.abs(y).mean() < 1.5  # the photo's own luminance is kept
    assert 'broken.png' in (tmp_path/'o'/'colorize_report.tsv').read_text()

@pytest.mark.parametrize('args,msg', [([], 'at least one image'), (['{img}', '--model', '{junk}'], 'not a safetensors'),
                                      (['{img}', '--model', '{model}', '--render-factor', '0'], '--render-factor'),
                                      (['{img}', '--model', '{missing}'], 'model file not found')])
def test_colorize_bad_usage(tmp_path, color_model, args, msg):
    junk = tmp_path/'junk.safetensors'; junk.write_bytes(b'not a model')
    img = sample_photos(['camera'])[0]
    args = [a.format(model=color_model, junk=junk, img=img, missing=tmp_path/'nope.safetensors') for a in args]
    r = run('lesson7ext-colorize', *args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and msg in lines[0] and lines[0].startswith('lesson7ext-colorize: error:'), r.stderr

@pytest.mark.parametrize('args,msg', [(['--source', '{missing}'], 'folder of images not found'), (['--source', '{empty}'], 'no image files'),
                                      (['--size', '48'], 'power of 2'), (['--minutes', '0'], '--minutes'), (['--bs', 'x'], 'invalid')])
def test_wgan_bad_usage(tmp_path, args, msg):
    (tmp_path/'empty').mkdir()
    r = run('lesson7ext-wgan', *[a.format(missing=tmp_path/'nope', empty=tmp_path/'empty') for a in args])
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and msg in lines[0], r.stderr

def test_wgan_cli_runs(tmp_path):
    r = run('lesson7ext-wgan', '--out', str(tmp_path/'w'), '--minutes', '0.05', '--size', '32', '--bs', '8')
    assert r.returncode == 0, r.stderr[-2000:]
    grid = Image.open(tmp_path/'w'/'samples_last.png')
    assert grid.size[0] > 4 * 32 and np.asarray(grid).std() > 1  # 16 samples, not blank
    assert (tmp_path/'w'/'wgan_generator.safetensors').stat().st_size > 10_000

def test_demo_gan_end_to_end(tmp_path):
    d = tmp_path/'d'
    r = run('lesson7ext-demo', '--out', str(d), '--minutes', '0.1', '--size', '64', '--bs', '4', '--gan', '--gan-minutes', '0.2', '--init', 'none')
    assert r.returncode == 0, r.stderr[-3000:]
    rep = (d/'report.html').read_text()
    assert 'PSNR trained' in rep and 'PSNR GAN' in rep and 'sharpness original' in rep
    for f in ['model.safetensors', 'model_gan.safetensors', 'gan/critic.safetensors', 'gan/generator_gan.safetensors']:
        assert (d/f).exists(), f
    load_restorer(d/'model_gan.safetensors')
    assert len(list((d/'gan'/'critic_data'/'generated').glob('*.png'))) > 0
    assert Image.open(d/'results.png').size[0] > 1500  # six columns

def test_demo_gan_bad_usage(tmp_path):
    r = run('lesson7ext-demo', '--out', str(tmp_path/'d'), '--gan', '--size', '32')
    assert r.returncode == 2 and 'critic' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
