"""Video: frame-by-frame against stabilized, speed and memory, in one run.

    python bench/video.py [--data ../shared/data] [--frames 60] [--crf 35]
    python bench/video.py --codec [--frames 30] [--codec-crfs 23,30,35,40] [--strip PNG]

Codec damage (`--codec`, issue 31): clean clips the `video` model never trained on (cockatoo.mp4's last --frames frames,
realshort.mp4, a pan over CSet5's baby) made into H.264 at each CRF, then: the input; `photo` as the video path ran it
before (strength from the noise the frames show); `lesson7ext-restore`'s path now (the codec picks `video`, the
strength from the stream, each frame alone, written finer than the source at `codec_out_crf`; then with the Stabilizer,
and written at CRF 18); and the `video` model's frames alone at strength 1 in RGB, not written as video (so with chroma
detail that 4:2:0 cannot carry), each frame alone and with its neighbours aligned. Columns: PSNR against the clean frames,
its gain over the input, the worst frame's gain, the temporal error, frames/s (2 threads here; 1280x720 for cockatoo),
and the output file's size against the input's.

Stability (restoration): the first --frames frames of `video/cockatoo.mp4` (1280x720) and all of `realshort.mp4`
(320x240) are the clean clips; their crappy copies are H.264 at CRF --crf, and a dim camera's (gaussian noise sigma 10,
then H.264 CRF 23). Each is restored with `photo` at its default strength (`video_strength`, from the noise the frames
show; at 0 the source's packets are copied) frame by frame (`stabilize='none'`) and stabilized both ways (`'residual'`:
the model's change carried along the flow; `'output'`: the restored frame carried, the default), then forced to strength 1. Columns: PSNR against the clean frames (mean over frames),
and the temporal error: mean over t of |(out_t - out_t-1) - (clean_t - clean_t-1)| in 8-bit levels.
Stability (colorization): the same clean clips in gray, colorized by `colorize` frame by frame and stabilized
(`'chroma'`): the frame-to-frame change of Lab a, b against the real colours', and colourfulness (Hasler and
Suesstrunk) against the real colours'. Speed: frames per second of those runs (2 threads here). Memory: peak RSS of a
fresh process restoring 30 and 280 frames of a 320x240 clip."""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, av, cv2
from PIL import Image

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from lesson7ext.video import restore_video, synthetic_clip

def read(f, n=None):
    "The first `n` frames of `f` as uint8 RGB arrays."
    out = []
    with av.open(str(f)) as c:
        for fr in c.decode(video=0):
            out.append(fr.to_ndarray(format='rgb24'))
            if n and len(out) == n: break
    return out

def write(frames, dst, crf, rate=30, gray=False):
    "Frames to an H.264 file at `crf` (gray: the luminance only, chroma neutral)."
    with av.open(str(dst), 'w') as c:
        s = c.add_stream('libx264', rate=rate, options=dict(crf=str(crf)))
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], 'yuv420p'
        for i, a in enumerate(frames):
            if gray: a = np.repeat(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)
            fr = av.VideoFrame.from_ndarray(a, format='rgb24').reformat(format='yuv420p'); fr.pts = i
            for p in s.encode(fr): c.mux(p)
        for p in s.encode(None): c.mux(p)
    return dst

def psnr(a, b): return 10 * np.log10(255 ** 2 / max(((a.astype(np.float64) - b) ** 2).mean(), 1e-10))
def temporal_error(out, clean):
    return float(np.mean([np.abs((o1.astype(np.float64) - o0) - (c1.astype(np.float64) - c0)).mean()
                          for o0, o1, c0, c1 in zip(out, out[1:], clean, clean[1:])]))
def ab(a): return cv2.cvtColor(a.astype(np.float32) / 255., cv2.COLOR_RGB2LAB)[..., 1:]
def chroma_change(fs): return float(np.mean([np.abs(ab(a) - ab(b)).mean() for a, b in zip(fs, fs[1:])]))
def colourfulness(fs):
    def one(a):
        r, g, b = (a[..., i].astype(np.float64) for i in range(3))
        rg, yb = r - g, 0.5 * (r + g) - b
        return np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    return float(np.mean([one(a) for a in fs]))

def run(src, dst, **kw):
    t0 = time.perf_counter()
    restore_video(src, dst, quiet=True, **kw)
    return read(dst), time.perf_counter() - t0

def size_ratio(a, b): return os.path.getsize(a) / os.path.getsize(b)

def crappy_clips(clean, tmp, name, crf, rate):
    "The crappy copies: H.264 at a high CRF, and a dim camera's (gaussian noise sigma 10, then H.264 CRF 23)."
    rng = np.random.default_rng(0)
    noisy = [np.clip(c + rng.normal(0, 10, c.shape), 0, 255).astype(np.uint8) for c in clean]
    return {f'H.264 CRF {crf}': write(clean, tmp/f'{name}_crf{crf}.mp4', crf, rate), 'noise σ10, H.264 CRF 23': write(noisy, tmp/f'{name}_noisy.mp4', 23, rate)}

def restoration(name, clean, tmp, crf, rate, shown):
    "Rows per crappy clip: the input; `photo` at its default strength (`video_strength`) frame by frame and stabilized both ways; and forced to strength 1."
    from lesson7ext.video import video_strength
    from lesson7ext.restore import cached_restorer
    rows = []
    for j, (kind, crappy) in enumerate(crappy_clips(clean, tmp, name, crf, rate).items()):
        x = read(crappy)
        s = video_strength(crappy, cached_restorer('photo'))
        rows.append((f'{name}, {kind}: input (video_strength: {s:.2f})', np.mean([psnr(a, c) for a, c in zip(x, clean)]), temporal_error(x, clean), None))
        shown[(name, kind)] = [x]
        for mode, st in (('none', None), ('residual', None), ('output', None), ('none', 1.), ('output', 1.)):
            out, secs = run(crappy, tmp/f'{name}_{j}_{mode}_{st}.mp4', model='photo', stabilize=mode, strength=st)
            label = ('photo' if st is None else 'photo at strength 1') + (', frame by frame' if mode == 'none' else f', stabilized ({mode})')
            rows.append((f'{name}, {kind}: {label}', np.mean([psnr(a, c) for a, c in zip(out, clean)]), temporal_error(out, clean), len(out) / secs))
            if mode != 'residual' and st is None: shown[(name, kind)].append(out)
        shown[(name, kind)].append(clean)
    return rows

def strip(shown, dst, t=20, box=(480, 0, 880, 300)):
    "Frames t and t+1 of cockatoo, cropped to `box`: crappy, frame by frame, stabilized, clean (columns); and its colorization row."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    rows = [('restore', shown[('cockatoo', 'noise σ10, H.264 CRF 23')], ['noise σ10, H.264 CRF 23', 'photo, frame by frame', 'photo, stabilized', 'clean']),
            ('colorize', shown['cockatoo_col'], ['gray', 'colorize, frame by frame', 'colorize, stabilized', 'real colours'])]
    fig, axs = plt.subplots(4, 4, figsize=(16, 10.5))
    for r, (kind, clips, titles) in enumerate(rows):
        for k in (0, 1):
            for c, (clip, title) in enumerate(zip(clips, titles)):
                ax = axs[2 * r + k, c]; x0, y0, x1, y1 = box
                ax.imshow(clip[t + k][y0:y1, x0:x1]); ax.set_axis_off(); ax.set_title(f'{title}, frame {t + k}', fontsize=9)
    fig.tight_layout(); fig.savefig(dst, dpi=72); plt.close(fig)

def colorization(name, clean, tmp, rate, shown):
    from lesson7ext.gan import colorize
    gray = write(clean, tmp/f'{name}_gray.mp4', 12, rate, gray=True)
    rows, shown[f'{name}_col'] = [(f'{name}: real colours', chroma_change(clean), colourfulness(clean), None)], [read(gray)]
    for mode in ('none', 'chroma'):
        out, secs = run(gray, tmp/f'{name}_col_{mode}.mp4', model='colorize', apply=lambda im, m: colorize(im, m, 21), stabilize=mode)
        shown[f'{name}_col'].append(out)
        rows.append((f"{name}: colorize, {'frame by frame' if mode == 'none' else 'stabilized'}", chroma_change(out), colourfulness(out), len(out) / secs))
    shown[f'{name}_col'].append(clean)
    return rows

# Codec damage (issue 31). Published gains on the MFQEv2 test set (HEVC at QP 37, 18 sequences), their papers' numbers, not runs:
PUBLISHED = [('DnCNN, one frame (Zhang et al., TIP 2017; as MFQE 2.0 reports it, Guan et al., TPAMI 2019)', 0.42),
             ('STDF, 7 frames (Deng et al., AAAI 2020)', '0.5-0.8'), ('BasicVSR++ (Chan et al., CVPRW 2022)', 1.08)]
CODEC_CRFS = (23, 30, 35, 40)

def heldout_clips(data, frames=30):
    "The clean clips the codec rows score, never trained on: cockatoo's last `frames` frames (`video` trained on its first 60 %), realshort, a pan over CSet5's baby."
    from lesson7ext.degrade import pan_frames
    baby = np.asarray(Image.open(Path(data)/'CSet5'/'baby.png').convert('RGB'))
    pan = [f[48:304, 48:432] for f in pan_frames(baby, (1.3, 0.6), 30, (480, 352))]  # 384x256, the reflected border cut off
    return dict(cockatoo=(read(Path(data)/'video'/'cockatoo.mp4')[-frames:], 20), realshort=(read(Path(data)/'video'/'realshort.mp4'), 30), baby_pan=(pan, 25))

def model_frames(m, x, neighbours=True, batch=4):
    "The `video` model's frames alone (no re-encoding): with the neighbours aligned, or each frame alone (its neighbours missing)."
    from lesson7ext.video import restore_windows
    if not neighbours: return [np.clip(np.round(restore_windows(m, [f])[0]), 0, 255).astype(np.uint8) for f in x]
    out = []
    for i in range(0, len(x), batch):
        ys = restore_windows(m, x[i:i + batch], x[i - 1] if i else None, x[i + batch] if i + batch < len(x) else None)
        out += [np.clip(np.round(y), 0, 255).astype(np.uint8) for y in ys]
    return out

def codec_rows(name, clean, rate, crf, tmp, m):
    "Rows for one clip at one CRF: (label, PSNR, worst frame's gain, temporal error, frames/s, output size over the input's)."
    crappy = write(clean, tmp/f'{name}_crf{crf}.mp4', crf, rate)
    x = read(crappy)
    score = lambda out: (np.mean([psnr(a, c) for a, c in zip(out, clean)]), min(psnr(a, c) - psnr(b, c) for a, b, c in zip(out, x, clean)), temporal_error(out, clean))
    rows, shown = [('input', *score(x), None, 1.)], [x]
    for label, kw in (('photo (before: video_strength)', dict(model='photo')), ('video: lesson7ext-restore (each frame alone, finer CRF out)', dict(model='auto')),
                      ('video, stabilized (output)', dict(model='auto', stabilize='output')), ('video, written at --crf 18', dict(model='auto', crf=18))):
        dst = tmp/f'{name}_{crf}_{label[:5]}_{kw.get("stabilize")}_{kw.get("crf")}.mp4'
        out, secs = run(crappy, dst, **kw)
        rows.append((label, *score(out), len(out) / secs, size_ratio(dst, crappy)))
        if label.startswith(('photo', 'video: ')): shown.append(out)
    for label, nb in (('video model alone at strength 1, one frame (RGB, not written)', False), ('video model alone at strength 1, neighbours aligned (RGB, not written)', True)):
        t0 = time.perf_counter(); out = model_frames(m, x, nb)
        rows.append((label, *score(out), len(out) / (time.perf_counter() - t0), None))
    return rows, shown + [clean]

def codec_strip(shown, dst, t=10, box=(560, 200, 880, 400)):
    "Frame t of cockatoo at CRF 35, cropped to `box`: input, photo, video, clean."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, 4, figsize=(16, 3.1))
    for ax, clip, title in zip(axs, shown, ['H.264 CRF 35', 'photo (strength from the noise)', 'video (lesson7ext-restore)', 'clean']):
        x0, y0, x1, y1 = box
        ax.imshow(clip[t][y0:y1, x0:x1]); ax.set_axis_off(); ax.set_title(f'{title}, frame {t}', fontsize=10)
    fig.tight_layout(); fig.savefig(dst, dpi=72); plt.close(fig)

def codec(data, frames, crfs=CODEC_CRFS, strip_to=None):
    "The codec table: every held-out clip at every CRF."
    from lesson7ext.restore import cached_restorer
    m, tmp = cached_restorer('video'), Path(tempfile.mkdtemp())
    print(f"\n## Codec damage: H.264 (x264 medium) at CRF {', '.join(map(str, crfs))}; clean clips never trained on\n")
    print("| clip | CRF | output | PSNR (dB) | gain | worst frame's gain | temporal error | frames/s | file size |\n|---|---|---|---|---|---|---|---|---|")
    for name, (clean, rate) in heldout_clips(data, frames).items():
        for crf in crfs:
            rows, shown = codec_rows(name, clean, rate, crf, tmp, m)
            if strip_to and name == 'cockatoo' and crf == 35: codec_strip(shown, strip_to)
            for label, ps, worst, te, fps, size in rows:
                print(f"| {name} {clean[0].shape[1]}x{clean[0].shape[0]} | {crf} | {label} | {ps:.2f} | {ps - rows[0][1]:+.2f} | {worst:+.2f} | {te:.3f} | {'' if fps is None else f'{fps:.2f}'} | {'' if size is None else f'×{size:.1f}'} |", flush=True)
    mem = memory(tmp, 'video')
    print(f"\nMemory, `video` at strength 1 on a 320x240 clip: peak RSS {mem[30]:.0f} MB for 30 frames, {mem[280]:.0f} MB for 280 ({mem[280] / mem[30]:.3f}x)")
    print("\nPublished, MFQEv2 test set, HEVC QP 37 (their numbers):\n")
    for n, g in PUBLISHED: print(f"- {n}: +{g} dB")

MEM = """import resource, sys; from lesson7ext.video import restore_video
restore_video(sys.argv[1], sys.argv[2], sys.argv[3], strength=1., quiet=True)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"""

def memory(tmp, model='photo'):
    "Peak RSS (MB) of a fresh process restoring 30 and 280 frames of a 320x240 clip with `model` at strength 1."
    out = {}
    for n in (30, 280):
        clip = synthetic_clip(tmp/f'mem{n}.mp4', n=n, size=(320, 240), rate=30, gop=30, audio=True)
        r = subprocess.run([sys.executable, '-c', MEM, str(clip), str(tmp/f'mem{n}_{model}_out.mp4'), model], capture_output=True, text=True, check=True)
        out[n] = float(r.stdout.split()[-1])
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--frames', type=int, default=60, help='frames of cockatoo.mp4 (720p) to use')
    p.add_argument('--crf', type=int, default=35)
    p.add_argument('--strip', default=None, help='write the before/after strip of frames here (PNG)')
    p.add_argument('--codec', action='store_true', help='only the codec table (issue 31): the `video` model against the input and `photo`')
    p.add_argument('--codec-crfs', default=','.join(map(str, CODEC_CRFS)))
    a = p.parse_args()
    if a.codec: return codec(a.data, a.frames, [int(c) for c in a.codec_crfs.split(',')], a.strip)
    tmp = Path(tempfile.mkdtemp())
    clips = dict(cockatoo=(read(Path(a.data)/'video'/'cockatoo.mp4', a.frames), 20), realshort=(read(Path(a.data)/'video'/'realshort.mp4'), 30))
    shown = {}
    rest = [r for n, (c, rate) in clips.items() for r in restoration(n, c, tmp, a.crf, rate, shown)]
    col = [r for n, (c, rate) in clips.items() for r in colorization(n, c, tmp, rate, shown)]
    if a.strip: strip(shown, a.strip)
    mem = memory(tmp)
    print(f"\n## Restoration: {a.frames} frames of cockatoo (1280x720), realshort (320x240, 36 frames)\n")
    print("| clip: output | PSNR (dB) | temporal error (levels) | frames/s |\n|---|---|---|---|")
    for n, ps, te, fps in rest: print(f"| {n} | {ps:.2f} | {te:.3f} | {'' if fps is None else f'{fps:.2f}'} |")
    print("\n## Colorization: the same clips in gray\n")
    print("| clip: output | chroma change (Lab a,b per frame) | colourfulness | frames/s |\n|---|---|---|---|")
    for n, cc, cf, fps in col: print(f"| {n} | {cc:.3f} | {cf:.1f} | {'' if fps is None else f'{fps:.2f}'} |")
    print("\n## Memory: peak RSS of a process restoring a 320x240 clip with photo\n")
    print("| frames | peak RSS (MB) |\n|---|---|")
    for n, mb in mem.items(): print(f"| {n} | {mb:.0f} |")
    print(f"\n280 / 30 frames: {mem[280] / mem[30]:.3f}x")

if __name__ == '__main__': main()
