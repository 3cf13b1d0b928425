"""The `video` recipe of `tools/pretrain.py`: training pairs of codec-damaged frames with their neighbours, and the loaders.

A sample is a frame of a short clip that went through a real encoder (x264 or x265, CRF 18-45, through PyAV): the frame
with its two neighbours aligned to it (`frame_window`), and the clean frame. The clips are photos panned by a random
fraction of a pixel per frame (`pan_frames`), and stretches of `video/cockatoo.mp4`'s first 60 % of frames re-encoded at
CRF 30-45 (its last 40 % and all of `realshort.mp4` are the bench's, never trained on). Some samples lose a neighbour
(a clip's ends, a segment's start) or get a frame of another scene (a cut), as the video path can give them. The samples
are made once per seed and cached in the work folder (`video_samples_*.npz`).
"""
import json, os, hashlib
from multiprocessing import Pool
from pathlib import Path
import numpy as np, torch, av
from fastai.data.core import TfmdDL, DataLoaders
from fastai.vision.core import TensorImage
from fastai.vision.augment import Normalize
from fastai.vision.all import imagenet_stats
from lesson7ext.images import open_image
from lesson7ext.degrade import pan_frames, codec_frames
from lesson7ext.video import frame_window, video_neighbours, probe_video, SegmentWriter, codec_out_crf, encoder_options

CLIP_TRAIN = 0.6  # the share of cockatoo.mp4's frames, from the start, that training may see

def clip_frames(data, share=CLIP_TRAIN):
    "cockatoo.mp4's first `share` of frames as uint8 RGB (the clean frames of the clip samples)."
    with av.open(str(Path(data)/'video'/'cockatoo.mp4')) as c:
        fs = [f.to_ndarray(format='rgb24') for f in c.decode(video=0)]
    return fs[:int(len(fs) * share)]

def photo_sample(rng, img, size, margin=24):
    "A window and its clean frame from `img` panned across a clip and encoded."
    s = size + 2 * margin
    h, w = img.shape[:2]
    y0, x0 = rng.integers(0, max(h - s, 0) + 1), rng.integers(0, max(w - s, 0) + 1)
    crop = img[y0:y0 + s, x0:x0 + s]
    motion = rng.uniform(-4, 4, 2) * (rng.random() < 0.85)  # some scenes stand still
    frames = pan_frames(crop, tuple(motion), 6)
    codec = 'hevc' if rng.random() < 0.25 else 'h264'
    return frames, codec_frames(frames, int(rng.integers(18, 46)), codec), margin

def clip_sample(rng, clip, size, margin=24):
    "A window and its clean frame from 6 frames of the clip, re-encoded."
    s = size + 2 * margin
    t = int(rng.integers(0, len(clip) - 6))
    h, w = clip[0].shape[:2]
    y0, x0 = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
    frames = [f[y0:y0 + s, x0:x0 + s] for f in clip[t:t + 6]]
    return frames, codec_frames(frames, int(rng.integers(30, 46)), 'h264'), margin

def make_sample(args):
    "Sample `i` of seed `seed`: `(window (S,S,9), clean (S,S,3))` uint8."
    i, seed, files, size, use_clip = args
    rng = np.random.default_rng([seed, i])
    if use_clip and rng.random() < 0.25: frames, dec, m = clip_sample(rng, _clip, size)
    else: frames, dec, m = photo_sample(rng, np.asarray(open_image(files[rng.integers(len(files))]).convert('RGB')), size)
    at = int(rng.integers(2, 5))  # a B- or P-frame, as most of a video's frames are
    prev, nxt = dec[at - 1], dec[at + 1]
    r = rng.random()
    if r < 0.1: prev = None  # a clip's first frame, a segment's
    elif r < 0.2: nxt = None
    elif r < 0.25: nxt = np.ascontiguousarray(dec[at][::-1, ::-1])  # a cut: another scene
    win = frame_window(prev, dec[at], nxt)
    c = slice(m, m + size)
    return win[c, c], frames[at][c, c]

_clip = None
def _init(clip):
    global _clip
    _clip = clip

def samples(work, files, n, size, seed, clip=None, procs=2):
    "`n` samples (cached in `work` by what makes them): windows `(n,S,S,9)` and clean frames `(n,S,S,3)`, uint8."
    key = hashlib.sha256(json.dumps([sorted(map(str, files)), n, size, seed, clip is not None, 2]).encode()).hexdigest()[:12]
    f = Path(work)/f'video_samples_{key}.npz'
    if f.exists():
        z = np.load(f)
        return z['x'], z['y']
    with Pool(procs, initializer=_init, initargs=(clip,)) as p:
        out = p.map(make_sample, [(i, seed, files, size, clip is not None) for i in range(n)], chunksize=16)
    x, y = np.stack([a for a, _ in out]), np.stack([b for _, b in out])
    Path(work).mkdir(parents=True, exist_ok=True)
    tmp = f.with_name(f'.{f.name}.tmp.npz')
    np.savez(tmp, x=x, y=y); os.replace(tmp, f)
    return x, y

class FramesNormalize(Normalize):
    "`Normalize` for frames stacked on the channels: each frame normalised with the same statistics."
    def encodes(self, x:TensorImage):
        k = x.shape[1] // self.mean.shape[1]
        return (x - self.mean.repeat(1, k, 1, 1)) / self.std.repeat(1, k, 1, 1)

class Windows(torch.utils.data.Dataset):
    "The samples as `(TensorImage (9,S,S), TensorImage (3,S,S))` in [0,1], flipped and transposed at random in training."
    def __init__(self, x, y, train): self.x, self.y, self.train = x, y, train
    def __len__(self): return len(self.x)
    def __getitem__(self, i):
        a, b = self.x[i], self.y[i]
        if self.train:
            k = np.random.randint(8)
            if k & 1: a, b = a[:, ::-1], b[:, ::-1]
            if k & 2: a, b = a[::-1], b[::-1]
            if k & 4: a, b = a.transpose(1, 0, 2), b.transpose(1, 0, 2)
        t = lambda v: TensorImage(torch.from_numpy(np.ascontiguousarray(v)).permute(2, 0, 1).float() / 255.)
        return t(a), t(b)

def video_dls(work, train, valid, data, r):
    "The loaders of the `video` recipe `r` (samples made once, cached in `work`)."
    clip = clip_frames(data)
    x, y = samples(work, train, r['samples'], r['size'], 0, clip)
    vx, vy = samples(work, valid, r['valid_samples'], r['size'], 1)
    norm = FramesNormalize.from_stats(*imagenet_stats, cuda=False)
    dl = TfmdDL(Windows(x, y, True), bs=r['bs'], shuffle=True, drop_last=True, after_batch=[norm])
    vdl = TfmdDL(Windows(vx, vy, False), bs=r['bs'], after_batch=[norm])
    return DataLoaders(dl, vdl)

def widen(model, photo_ckpt):
    "Start `model` (a `NafUnet` of 3 frames) from a one-frame `NafUnet` checkpoint: the middle frame's stem is the photo model's, the neighbours' zero."
    sd = torch.load(photo_ckpt, map_location='cpu', weights_only=False)
    sd = sd.get('model', sd)
    w, stem = sd['stem.weight'], torch.zeros_like(model.stem.weight)
    ci = w.shape[1]
    stem[:, ci * (model.frames // 2):ci * (model.frames // 2 + 1)] = w
    model.load_state_dict(dict(sd, **{'stem.weight': stem}))
    return hashlib.sha256(Path(photo_ckpt).read_bytes()).hexdigest()

def bench_video():
    "`bench/video.py` as a module: the protocol (clips, encoding, PSNR) the card's scores and strengths share with the bench."
    import importlib.util
    spec = importlib.util.spec_from_file_location('bench_video', Path(__file__).resolve().parents[1]/'bench'/'video.py')
    b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
    return b

def video_scores(model, data, crfs=(23, 35, 40)):
    "The card's held-out scores: `bench/video.py`'s clips at `crfs`, the input's PSNR and `restore_video`'s with this model at its strength (dB)."
    import tempfile
    b = bench_video()
    tmp, out = Path(tempfile.mkdtemp()), {}
    for name, (clean, rate) in b.heldout_clips(data).items():
        for crf in crfs:
            crappy = b.write(clean, tmp/f'{name}_{crf}.mp4', crf, rate)
            y, _ = b.run(crappy, tmp/f'{name}_{crf}_out.mp4', model=model)
            ps = lambda fs: round(float(np.mean([b.psnr(a, c) for a, c in zip(fs, clean)])), 3)
            out[f'{name} CRF {crf}'] = dict(input=ps(b.read(crappy)), model=ps(y))
    return dict(protocol='bench/video.py heldout_clips: H.264 (x264 medium) at each CRF, restore_video with its defaults; PSNR over frames', clips=out)

CAL_CRFS, CAL_STRENGTHS = (18, 20, 23, 26, 30, 35, 40, 45), (0., 0.25, 0.5, 0.75, 1.)

def calibration_clips(data, valid):
    "Clean clips the strengths are measured on, never the bench's: cockatoo's frames 120-135 (training's side of the clip) and pans over 2 validation photos."
    clip = clip_frames(data)[120:136]
    pans = [pan_frames(np.asarray(open_image(f).convert('RGB')), (1.3, 0.6), 16, (384, 256)) for f in valid[:2]]
    return [(clip, 20)] + [(p, 25) for p in pans]

def written(src, fs, xs, ys, dst):
    "The frames `ys` (restored from `src`'s decoded frames: `fs` as PyAV gives them, `xs` in RGB) as `restore_video` writes them for a codec model (the change only, at `codec_out_crf`), read back."
    info = probe_video(src)
    w = SegmentWriter(dst, info, (info['width'], info['height']), codec_out_crf(encoder_options(src).get('crf')))
    for f, x, y in zip(fs, xs, ys): w.write(np.clip(np.round(y), 0, 255).astype(np.uint8), f.pts, (f, x))
    w.close()
    return bench_video().read(dst)

def calibrate_crf(model, data, valid):
    "The card's `strength_by_crf`: per x264 CRF, the strength with the best mean gain among those that cost no frame more than 0.1 dB, scored as the video path writes its output (`written`); the temporal error's change is recorded beside it."
    import tempfile
    b = bench_video()
    tmp, table, gains, flicker = Path(tempfile.mkdtemp()), [], {}, {}
    for crf in CAL_CRFS:
        g, te = {s: [] for s in CAL_STRENGTHS}, {s: [] for s in CAL_STRENGTHS}
        for k, (clean, rate) in enumerate(calibration_clips(data, valid)):
            src = b.write(clean, tmp/f'{k}_{crf}.mp4', crf, rate)
            with av.open(str(src)) as c: fs = list(c.decode(video=0))  # decoded once for every strength
            x = [f.to_ndarray(format='rgb24') for f in fs]
            y = b.model_frames(model, x, video_neighbours)  # as the video path runs it
            g[0.] += [0.] * len(x); te[0.].append(0.)  # strength 0: the source is copied as it is
            for s in CAL_STRENGTHS[1:]:
                out = written(src, fs, x, [a + s * (o.astype(np.float64) - a) for a, o in zip(x, y)], tmp/f'{k}_{crf}_{s}.nut')
                g[s] += [b.psnr(o, c) - b.psnr(a, c) for a, o, c in zip(x, out, clean)]
                te[s].append(b.temporal_error(out, clean) - b.temporal_error(x, clean))
        ok = [s for s in CAL_STRENGTHS if min(g[s]) >= -0.1]
        table.append([crf, max(ok, key=lambda s: np.mean(g[s]))])
        gains[str(crf)] = {str(s): round(float(np.mean(v)), 3) for s, v in g.items()}
        flicker[str(crf)] = {str(s): round(float(max(v)), 3) for s, v in te.items()}
        print(f"video: CRF {crf}: strength {table[-1][1]}, mean gains {gains[str(crf)]}, worst frame's {({str(s): round(float(min(v)), 3) for s, v in g.items()})}, "
              f"worst clip's temporal error change {flicker[str(crf)]}", flush=True)
    return dict(strength_by_crf=table, strength_measured=dict(clips="cockatoo.mp4 frames 120-135, pans over 2 validation photos", gains=gains, temporal_error_change=flicker,
                                                              how="the frames as restore_video writes them: the change only, x264 at codec_out_crf"))

def recalibrate(out_path, data, valid):
    "Measure the shipped `video` model's strengths and held-out scores again (after the video path changed) and rewrite its card; the weights stay."
    from lesson7ext.zoo import load_restorer, model_card, export_restorer
    m, c = load_restorer('video'), model_card('video')
    cal = calibrate_crf(m.eval(), data, valid)
    m.restorer_info = dict(card=cal)
    c = dict(c, **cal, scores=video_scores(m, data), recalibrated=dict(date=__import__('time').strftime('%Y-%m-%d'), why='the video path writes a codec model\'s output finer than its source (codec_out_crf), and the strengths are measured through that writer'))
    return export_restorer(m, out_path, scale=1, card=c)
