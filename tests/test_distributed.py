"Two CPU processes (gloo) started by `accelerate launch`: training, NoGAN and batch restore, as a cluster would run them."
import json, os, socket, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image

from lesson7ext.zoo import load_restorer

HERE = Path(__file__).parent
JOB = HERE/'distributed_job.py'

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def launch(n, *args, module=False, timeout=240):
    "Run `args` (a script and its arguments, or `-m module ...`) in `n` processes, as the docs say; (exit status, output)."
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    if n == 1: cmd = [sys.executable, *(['-m'] if module else []), *map(str, args)]
    else: cmd = [sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', str(n), '--num_machines', '1',
                 '--mixed_precision', 'no', '--dynamo_backend', 'no', '--main_process_port', str(free_port()),
                 *(['-m'] if module else []), *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=HERE.parent)
    log = r.stdout + r.stderr
    if r.returncode not in (0, 1): print(log[-20000:])  # pytest shows it with the failure: every rank's traceback
    return r.returncode, log

def records(folder, n=2): return [json.loads((Path(folder)/f'rank{r}.json').read_text()) for r in range(n)]

@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp('photos')
    rng = np.random.default_rng(0)
    for i in range(6):
        a = np.zeros((96, 112, 3), np.uint8) + rng.integers(0, 255, 3, dtype=np.uint8)
        a[::7] = 255
        a[:, ::5] //= 2
        Image.fromarray(a).save(d/f'p{i}.png')
    return d

def test_train_two_processes(photos, tmp_path):
    "Both ranks hold the same weights after every step, rank 0 alone writes, the model loads."
    out = tmp_path/'m.safetensors'
    code, log = launch(2, JOB, 'train', '--results', tmp_path/'res', '--photos', photos, '--out', out, '--minutes', '0.15')
    assert code == 0, log[-3000:]
    r0, r1 = records(tmp_path/'res')
    assert len(r0['digests']) >= 5 and all(len(set(d)) == 1 for d in r0['digests']), r0['digests'][:3]
    assert r0['digests'] == r1['digests']
    assert r1['writes'] == [] and str(out) in r0['writes']
    assert all(w in (str(out), f'{out}.partial', f'{out}.partial.json') for w in r0['writes']), r0['writes']
    assert r0['metrics'] == r1['metrics'] and r0['metrics']['psnr'] > 10  # validation gathered over ranks: one value
    assert load_restorer(out).nf == 8
    assert not Path(f'{out}.partial').exists()

def test_same_global_batch_same_losses(tmp_path):
    """1 process with batch 8 and 2 processes with batch 4 each see the same samples at every step; their losses agree.

    The first step's losses agree to float rounding (same weights, same samples). Later steps agree within 1e-3
    (relative): the gradient sums are added in another order, and Adam's first steps move each weight by about
    lr * sign(gradient), so weights whose gradient is near zero can move differently. Any real fault (ranks seeing the
    wrong samples, gradients summed instead of averaged, unsynchronised weights) gives differences of 1e-2 or more.
    """
    code1, log1 = launch(1, JOB, 'losses', '--results', tmp_path/'one')
    code2, log2 = launch(2, JOB, 'losses', '--results', tmp_path/'two')
    assert code1 == 0 and code2 == 0, (log1 + log2)[-3000:]
    assert all(r.get('batchnorm') for r in records(tmp_path/'two'))  # `learn.distrib_ctx()` itself, on a model with batch norm
    one = [l[0] for l in records(tmp_path/'one', 1)[0]['losses']]
    two = [float(np.mean(l)) for l in records(tmp_path/'two')[0]['losses']]
    assert len(one) == len(two) == 4
    assert abs(one[0] - two[0]) <= 1e-6 * one[0], (one, two)
    np.testing.assert_allclose(two, one, rtol=1e-3)

def test_nogan_two_processes_resumes(photos, tmp_path):
    "All four stages on 2 ranks, each checkpoint written once by rank 0; interrupted at GAN iteration 5, resumed at 4."
    out = tmp_path/'ng'
    common = ('--photos', photos, '--out', out, '--minutes', '0.05', '--bs', '2')
    code, log = launch(2, JOB, 'nogan', '--results', tmp_path/'a', '--interrupt', '5', *common)
    a0, a1 = records(tmp_path/'a')
    assert a0.get('interrupted') and a1.get('interrupted'), log[-3000:]
    code, log = launch(2, JOB, 'nogan', '--results', tmp_path/'b', *common)
    assert code == 0, log[-3000:]
    assert 'resuming at iteration 4' in log and '1/4' not in log and '3/4' not in log
    b0, b1 = records(tmp_path/'b')
    assert a1['writes'] == b1['writes'] == []
    for r in (a0, b0, b1, a1): assert all(len(set(d)) == 1 for d in r['digests'] + r['modes'])  # same weights, same next step
    gens = [Path(w).name for w in a0['writes'] + b0['writes'] if Path(w).name.startswith('gen_')]
    assert gens == [f'gen_{i:06d}.safetensors' for i in (2, 4, 6, 8)], gens  # each once, none redone after the resume
    for f in ('generator.safetensors', 'critic.safetensors'): assert sum(Path(w).name == f for w in a0['writes'] + b0['writes']) == 1
    assert load_restorer(out/'generator_gan.safetensors').nf == 8

def test_restore_two_processes(photos, tmp_path):
    "`lesson7ext-train` then `-restore` of a folder on 2 ranks: one model, every output written once, one merged report, one summary."
    src = tmp_path/'in'
    src.mkdir()
    for p in photos.glob('*.png'): (src/p.name).write_bytes(p.read_bytes())
    (src/'broken.jpg').write_text('not an image')
    model = tmp_path/'m.safetensors'  # trained by `lesson7ext-train` under the launcher, as the docs show
    code, log = launch(2, 'lesson7ext.cli', 'train', photos, '--out', model, '--minutes', '0.1', '--size', '32', '--bs', '4', '--quiet', module=True)
    assert code == 0 and log.count(f'wrote {model}') == 1, log[-3000:]
    code, log = launch(2, 'lesson7ext.cli', 'restore', src, '--out', tmp_path/'out', '--model', model, '--quiet', module=True)
    assert code == 1, log[-3000:]  # 1: a file was skipped (and listed)
    assert log.count('6 restored, 1 skipped') == 1, log[-3000:]
    assert sorted(p.name for p in (tmp_path/'out').iterdir() if not p.name.startswith('.')) == sorted([f'p{i}.png' for i in range(6)] + ['restore_report.tsv'])
    assert (tmp_path/'out'/'restore_report.tsv').read_text().count('broken.jpg') == 1

def test_crappify_shards(tmp_path, photos):
    "A job array's parts (--shard K/N) crappify disjoint files; together, the whole folder, as one run would."
    for k in range(3):
        code, log = launch(1, 'lesson7ext.cli', 'crappify', photos, tmp_path/'parts', '--shard', f'{k}/3', '--workers', '0', '--quiet', module=True)
        assert code == 0, log
        assert '2 written, 0 already done, 0 skipped of 2 files' in log
    code, log = launch(1, 'lesson7ext.cli', 'crappify', photos, tmp_path/'whole', '--workers', '0', '--quiet', module=True)
    assert code == 0, log
    parts, whole = (sorted((tmp_path/d).glob('*.jpg')) for d in ('parts', 'whole'))
    assert [p.name for p in parts] == [p.name for p in whole] and len(whole) == 6
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(parts, whole))
    code, log = launch(1, 'lesson7ext.cli', 'crappify', photos, tmp_path/'x', '--shard', '3/3', module=True)
    assert code == 2 and 'need 0 <= K < N' in log
