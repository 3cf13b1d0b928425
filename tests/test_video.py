"Videos through the command line: sound, frames, duration and rotation kept; killed and rerun; bad videos reported."
import os, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest, av
from lesson7ext.video import synthetic_clip, parts_dir, probe_video

def restore(*a, timeout=600):
    return subprocess.run([shutil.which('lesson7ext-restore'), *map(str, a)], capture_output=True, text=True, timeout=timeout)

def frames(f):
    with av.open(str(f)) as c: return [fr.to_ndarray(format='rgb24') for fr in c.decode(video=0)]

def audio_packets(f):
    with av.open(str(f)) as c: return [bytes(p) for p in c.demux(audio=0) if p.dts is not None]

def psnr(a, b):
    mse = ((a.astype(np.float64) - b) ** 2).mean()
    return 100. if mse == 0 else 10 * np.log10(255 ** 2 / mse)

def test_video_with_sound(tmp_path):
    clip = synthetic_clip(tmp_path/'clip.mp4', n=30, size=(128, 96), rate=15, gop=10, rotation=90)
    img = tmp_path/'photo.png'
    from PIL import Image
    Image.fromarray(frames(clip)[0]).save(img)
    r = restore(clip, img, '--out', tmp_path/'out', '--quiet')
    assert r.returncode == 0, r.stderr
    out = tmp_path/'out'/'clip.mp4'
    a, b = probe_video(clip), probe_video(out)
    assert len(b['pts']) == len(a['pts']) == 30 and b['rotation'] == 90
    with av.open(str(clip)) as c0, av.open(str(out)) as c1:
        assert abs(c1.duration - c0.duration) <= 1e6 / 15  # within one frame
        assert c1.streams.video[0].codec_context.name == 'h264' and c1.streams.video[0].codec_context.pix_fmt == 'yuv420p'
    assert audio_packets(out) == audio_packets(clip)
    assert (tmp_path/'out'/'photo.png').exists()  # images beside videos
    assert all((x == y).all() for x, y in zip(frames(out), frames(clip)))  # clean footage is left alone (`video_strength`): its own packets

def test_killed_then_rerun_equals_one_run(tmp_path):
    clip = synthetic_clip(tmp_path/'clip.mp4', n=300, size=(320, 240), rate=30, gop=10)  # three segments of at least 120 frames: a kill falls between two
    r = restore(clip, '--out', tmp_path/'whole', '--quiet', '--strength', '1')  # the model and the stabilizer at work, not clean footage left alone
    assert r.returncode == 0, r.stderr
    dst = tmp_path/'killed'/'clip.mp4'
    p = subprocess.Popen([shutil.which('lesson7ext-restore'), str(clip), '--out', str(dst.parent), '--quiet', '--strength', '1'])
    for _ in range(1200):  # kill it once a segment is written and before it is done
        if list(parts_dir(dst).glob('seg_*.nut')) or p.poll() is not None: break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    if dst.exists(): pytest.skip('the run finished before it could be killed')
    assert not dst.exists() and list(parts_dir(dst).glob('seg_*.nut'))  # nothing half-written in place of the output
    r = restore(clip, '--out', dst.parent, '--quiet', '--strength', '1')
    assert r.returncode == 0, r.stderr
    a, b = frames(tmp_path/'whole'/'clip.mp4'), frames(dst)
    assert len(a) == len(b) == 300
    assert min(psnr(x, y) for x, y in zip(a, b)) >= 50
    assert not parts_dir(dst).exists()

def test_bad_videos_are_reported(tmp_path):
    good = synthetic_clip(tmp_path/'good.mp4', n=12, audio=False)
    (tmp_path/'notes.mp4').write_text('not a video')
    (tmp_path/'empty.mkv').write_bytes(b'')
    (tmp_path/'cut.mp4').write_bytes(good.read_bytes()[:len(good.read_bytes()) // 3])
    with av.open(str(tmp_path/'sound.mp4'), 'w') as c:
        s = c.add_stream('aac', rate=16000)
        f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='fltp', layout='mono'); f.sample_rate, f.pts = 16000, 0
        for pk in [*s.encode(f), *s.encode(None)]: c.mux(pk)
    out = tmp_path.parent/f'{tmp_path.name}_out'  # beside the input folder: inside it is refused
    r = restore(tmp_path, '--out', out, '--quiet')
    assert r.returncode == 1, r.stderr
    report = (out/'restore_report.tsv').read_text()
    for name, words in (('notes.mp4', 'not a video'), ('empty.mkv', 'empty file'), ('cut.mp4', ''), ('sound.mp4', 'no video stream')):
        line = next((l for l in report.splitlines() if name in l), None)
        assert line is not None and words in line, (name, report)
    assert (out/'good.mp4').exists()
    assert not [f for f in out.rglob('*') if f.name.startswith('.') and f.name != '.restore_journal.tsv'], list(out.rglob('*'))  # no temporary left

def test_video_usage_errors(tmp_path):
    for a, words in ((['--crf', '60'], '--crf'), (['--stabilize', 'wobbly'], '--stabilize')):
        r = restore(tmp_path/'x.mp4', '--out', tmp_path/'o', *a)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_codec_picks_the_model_and_strength(tmp_path):
    "A film's codec and rate factor choose: the `video` model for H.264 at CRF 40 (better frames), a CRF-18 copy comes back packet for packet, `--model photo` still forces photo."
    kw = dict(n=24, size=(256, 192), rate=24, gop=24, audio=False)
    clean = frames(synthetic_clip(tmp_path/'clean.mp4', crf=0, **kw))  # x264 at CRF 0: lossless
    heavy, light = synthetic_clip(tmp_path/'heavy.mp4', crf=40, **kw), synthetic_clip(tmp_path/'light.mp4', crf=18, **kw)
    r = restore(heavy, light, '--out', tmp_path/'out')
    assert r.returncode == 0, r.stderr
    import re
    said = re.search(r'heavy.mp4: strength ([0-9.]+), from x264 CRF 40', r.stderr)
    assert said and float(said[1]) > 0 and 'light.mp4: strength 0.00, from x264 CRF 18' in r.stderr, r.stderr
    with av.open(str(light)) as a, av.open(str(tmp_path/'out'/'light.mp4')) as b:  # copied, not re-encoded
        assert [bytes(p) for p in a.demux(video=0) if p.size] == [bytes(p) for p in b.demux(video=0) if p.size]
    x, y = frames(heavy), frames(tmp_path/'out'/'heavy.mp4')
    gains = [psnr(b, c) - psnr(a, c) for a, b, c in zip(x, y, clean)]
    assert np.mean(gains) > 0.3 and min(gains) > 0, gains
    r = restore(heavy, '--out', tmp_path/'photo', '--model', 'photo')
    assert r.returncode == 0 and 'from the noise its first frames show' in r.stderr, r.stderr

def test_video_model_refuses_photos(tmp_path):
    from PIL import Image
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path/'p.png')
    r = restore(tmp_path/'p.png', '--out', tmp_path/'out', '--model', 'video')
    assert r.returncode == 1 and "give it a video" in (tmp_path/'out'/'restore_report.tsv').read_text(), (r.stdout, r.stderr)
