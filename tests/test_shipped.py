"The models shipped in the package: each loads offline, its checksum and card are valid, and it beats bicubic."
import json, subprocess
from pathlib import Path
import numpy as np, pytest
from PIL import Image

from lesson7ext.zoo import shipped_models, shipped_names, load_restorer, model_card, weights_dir, RestorerFileError
from lesson7ext.restore import restore
from lesson7ext.protocols import heldout_pairs, heldout_scores

data = Path(__file__).resolve().parents[2]/'shared'/'data'
installed = sorted(shipped_models())
card_keys = {'name', 'task', 'data', 'recipe', 'minutes', 'hardware', 'commit', 'date', 'scores'}

def test_default_model_is_shipped():
    "`lesson7ext-restore photo.jpg --out dir` needs `photo` in the package, and the wheel must include it."
    assert 'photo' in installed and 'lesson7' in installed
    toml = (Path(__file__).resolve().parents[1]/'pyproject.toml').read_text()
    assert 'weights/*.safetensors' in toml

@pytest.mark.parametrize('name', installed)
def test_shipped_file(name):
    m = load_restorer(name)  # checks the SHA-256 of the weights against the file's metadata
    assert name in shipped_names and (weights_dir/f'{name}.safetensors').stat().st_size <= 10 * 2**20
    card = model_card(name)
    assert card_keys <= set(card) and card['name'] == name, set(card)
    assert card['data']['never'].startswith('CSet5') and card.get('inputs') and card['recipe']['script'] == 'tools/pretrain.py'
    if name == 'video':  # held-out clips at CRF 23, 35, 40 (bench/video.py's), not CSet5 photos
        clips = card['scores']['clips']
        assert len(clips) == 9 and all(v['model'] > v['input'] for k, v in clips.items() if 'CRF 23' not in k), clips
    else: assert card['scores']['n'] == 5 and np.isfinite(card['scores']['model']['psnr'])
    assert m.scale == card['recipe']['scale']

@pytest.mark.skipif(not (data/'CSet5').exists(), reason='needs ../shared/data/CSet5')
@pytest.mark.parametrize('name', [n for n in installed if n not in ('colorize', 'video')])
def test_shipped_beats_bicubic(name):
    m = load_restorer(name)
    pairs = heldout_pairs(data/'CSet5', 'realistic' if name == 'photo' else name)
    pairs = pairs if name == 'photo' else pairs[:1]  # baby; `photo`, the blind model, on the realistic chain over all of CSet5 (its card's row: one photo is within 0.1 dB)
    r = heldout_scores(lambda im: restore(im, m), pairs)
    assert r['model']['psnr'] > r['baseline']['psnr'] + 0.1, r

@pytest.mark.skipif('colorize' not in installed or not (data/'CSet5').exists(), reason='needs the colorize model and CSet5')
def test_shipped_colorize_adds_colour():
    from lesson7ext.gan import colorize
    m = load_restorer('colorize')
    r = heldout_scores(lambda im: colorize(im, m), heldout_pairs(data/'CSet5', 'colorize')[:1])
    assert r['model']['colourfulness'] > 5 and r['model']['psnr_rgb'] > r['baseline']['psnr_rgb'] - 0.5, r

def test_missing_shipped_model_is_one_line(tmp_path):
    missing = [n for n in shipped_names if n not in installed]
    name = missing[0] if missing else 'nonexistent'
    r = subprocess.run(['lesson7ext-restore', str(tmp_path), '--model', name], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_list_models():
    r = subprocess.run(['lesson7ext-restore', '--list-models'], capture_output=True, text=True)
    assert r.returncode == 0 and all(n in r.stdout for n in shipped_names), r.stdout
