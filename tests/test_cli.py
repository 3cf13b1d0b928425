"The console scripts as a user runs them: exit codes, one-line errors, kill and resume."
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from PIL import Image

from lesson7ext.folder import report_name
from lesson7ext.data import sample_photos

def run(*args, timeout=300):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)

def test_crappify_exit_codes(corpus, tmp_path):
    src, exp = corpus
    r = run('lesson7ext-crappify', str(src/'good'), str(tmp_path/'ok'), '--workers', '2', '--quiet')
    assert r.returncode == 0, r.stderr
    assert '3 written' in r.stdout
    r = run('lesson7ext-crappify', str(src), str(tmp_path/'some'), '--quiet')
    assert r.returncode == 1
    assert report_name in r.stderr and 'Traceback' not in r.stderr
    assert len((tmp_path/'some'/report_name).read_text().splitlines()) == 1 + len(exp['bad'])

@pytest.mark.parametrize('args,msg', [([], 'required'), (['{missing}', '{out}'], 'source folder not found'),
                                      (['{src}', '{out}', '--preset', 'nope'], 'unknown preset'),
                                      (['{src}', '{out}', '--workers', '-1'], '--workers'),
                                      (['{src}', '{src}/inside'], 'inside the source'),
                                      (['{src}', '{out}', '--seed', 'x'], 'invalid')])
def test_crappify_bad_usage(corpus, tmp_path, args, msg):
    src, _ = corpus
    args = [a.format(src=src/'good', out=tmp_path/'o', missing=tmp_path/'missing') for a in args]
    r = run('lesson7ext-crappify', *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0] and lines[0].startswith('lesson7ext-crappify: error:'), r.stderr

def test_help_from_docments():
    r = run('lesson7ext-crappify', '--help')
    assert r.returncode == 0 and 'Degradation preset' in r.stdout

def test_kill_and_resume(tmp_path):
    "SIGKILL a run part way: no partial output; a rerun finishes with the same bytes as an uninterrupted run."
    src = tmp_path/'src'; src.mkdir()
    for i in range(40):
        for p in sample_photos(['motorcycle', 'coffee']): Image.open(p).save(src/f'{i:02d}_{p.stem}.png')
    ref = tmp_path/'ref'
    assert run('lesson7ext-crappify', str(src), str(ref), '--workers', '2', '--quiet').returncode == 0
    dst = tmp_path/'dst'
    p = subprocess.Popen(['lesson7ext-crappify', str(src), str(dst), '--workers', '2', '--quiet'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    while time.time() - t0 < 120 and len(list(dst.glob('*.jpg'))) < 10: time.sleep(0.02)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    done = sorted(dst.glob('*.jpg'))
    assert 0 < len(done) < 80, len(done)
    for f in done: Image.open(f).load()  # every finished name is a whole image
    r = run('lesson7ext-crappify', str(src), str(dst), '--workers', '2', '--quiet')
    assert r.returncode == 0 and f'{len(done)} already done' in r.stdout, r.stdout
    assert not list(dst.glob('.*.tmp'))
    for f in ref.glob('*.jpg'): assert (dst/f.name).read_bytes() == f.read_bytes(), f.name
