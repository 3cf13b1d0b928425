"""Train a model that lesson7ext ships, reproducibly and resumably.

    python tools/pretrain.py NAME [--data ../shared/data] [--threads N] [--work DIR] [--out DIR] [--train-only]

NAME is one of `photo`, `lesson7`, `realistic`, `x4`, `colorize`, `video` (see `RECIPES`; `video`'s clips and loaders are
`tools/video_train.py`'s). Training data: CBSD68, Sun80
(downscaled to a 480-px short side so its JPEG blocks vanish) and the photos bundled with scikit-image / scikit-learn
except the demo's held-back ones; never CSet5. `photo` also leaves out the Sun80 photos `bench/photos.py` evaluates on
(`eval_sun80`, every 8th by name) and adds BSDS500's train/ and test/ but the 10 the bench scores (`eval_bsds`). On a CPU
a recipe's `cpu` settings apply (`photo`: batch 16, 16k-crop epochs); `photo`'s 480-minute budget is many sessions of
this machine: run the command at the start of each session (in the background, `nohup ... &`) until it finishes. The run checkpoints after every epoch to `tools/checkpoints/NAME.pth` (one path,
overwritten atomically, with the optimizer) and logs one line per epoch to `tools/logs/NAME.log`; rerunning the same
command resumes from the checkpoint with the same schedule and seeds. When the last epoch is done it scores the model
on held-out CSet5, writes `lesson7ext/weights/NAME.safetensors` with its model card in the metadata, and deletes the
checkpoint. Commit the checkpoint when a session stops before that. A recipe with `minutes` (`photo`) trains on a
time budget instead (`fit_budget`, checkpointed every minute and after each epoch, resumable the same way): a GPU's
wall clock, or on a CPU the CPU time the run was given (`cpu_clock`), so other jobs on a shared machine do not eat it;
`tools/pretrain_gpu.sh` runs it on a GPU machine with `--train-only`, and this script, rerun here, finishes it.
"""
import argparse, io, json, math, os, shutil, platform, random, subprocess, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch, torch.nn.functional as F

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from fastai.vision.all import Callback, save_model, load_model
from lesson7ext.images import open_image, atomic_write
from lesson7ext.degrade import resize
from lesson7ext.data import restoration_dls, sample_photos, sample_names, extra_training_images
from lesson7ext.train import restoration_learner, fit_budget, BudgetCheckpoint, resume_budget, TimeBudget, CropSchedule
from lesson7ext.zoo import export_restorer, weights_dir, load_restorer, build_model
from lesson7ext.demo import demo_held_back
from lesson7ext.losses import psnr_loss
LOSSES = dict(l1=F.l1_loss, mse=F.mse_loss, psnr=psnr_loss)  # a recipe's `loss` (default l1); `bench/photo_recipe.py` chose MSE for `photo`, `bench/sr_recipe.py` measures x4's

# One dict per shipped model: data preset, architecture (`RestoreUnet` keywords), crops, schedule; `then`: further one-cycle
# stages, each from the previous one's end with a fresh optimizer (the checkpoint's epoch counts across stages).
RECIPES = dict(
    # `photo`: a wall-clock budget (`minutes`, `fit_budget`'s one-cycle over the clock) on a GPU machine (`tools/pretrain_gpu.sh`): a
    # factor-2 U-Net sees several times the samples the factor-4 one saw in 137 min of CPU (tools/logs/photo_cpu.log, 3 stages, 566k crops).
    # Tried and not shipped: a 7-min stage from this model (`init='photo'`, lr 1e-3) with H.264 frames (`RandH264`: 8 % alone, 4 % after
    # noise and a resize) in the mixture (tools/logs/photo_h264_stage.log): H.264 frames of CSet5 gained 0.1-0.8 dB, but clean CSet5
    # photos fell (baby 40.9 -> 37.5 dB against itself, butterfly 50.3 -> 47.5) and cockatoo.mp4's frames were still made worse.
    # Issue 28: NAF blocks (`NafUnet`), which learned in 5 CPU minutes what `RestoreUnet` had not (`bench/photo_training.py archs`: JPEG q30
    # +0.47 dB against +0.09, noise +5.9 against +3.7), BSDS500's 390 photos added, and a long budget that a CPU trains over many sessions
    # (`cpu`: batch 16 and 16k-crop epochs there, a log line and a checkpoint every few minutes; a GPU run passes its own minutes).
    photo=dict(task='blind restoration of the photos people have: JPEG at any quality, noise, mild blur, web copies, scans; clean photos left alone',
               inputs='for the photos people have (the default): JPEGs, noise, blur, upscaled copies, scans; leaves clean photos alone',
               preset='photo', scale=1, model=dict(arch='NafUnet', factor=2, nf=32, blocks=[1, 1, 4]), size=128, bs=64, minutes=480,
               epoch_size=128000, lr=1.5e-3, loss='mse', align=16, hold_out_eval=True, bsds=True, workers=14, cpu=dict(bs=16, epoch_size=16000)),
    lesson7=dict(task='restore the lesson\'s crappifier (text, JPEG q10-70, downscale to a 96-px short side)', preset='lesson7',
                 inputs="for the lesson's crappifier (small, numbered, JPEG-compressed copies); harms clean and lightly degraded photos",
                 scale=1, model=dict(factor=4, nf=48), size=128, bs=16, epochs=70, epoch_size=1600, lr=3e-3),
    # Issue 41: the U-Net on the small image (`RestoreUnet(factor=1, scale=4)`: PixelShuffle x4 at the end, over the bicubic upscale), which
    # learned most per CPU minute of the nets `bench/sr_recipe.py` tried (RLFN's and NAF blocks flat at the small size, a NAF U-Net, the
    # x4 before it: RestoreUnet(factor=4) on the bicubic upscale, 36 one-cycle epochs of 1600 192-px crops, 129.5 min, Set5 30.53 dB),
    # with its winning recipe: small-to-large crops (128, 192, 256 px of output from 0, 50, 80 % of the budget), L1, the learning rate
    # decayed linearly to zero; BSDS500 and Sun80 but the photos `bench/x4.py` scores, a CPU budget (`cpu_clock`).
    x4=dict(task='x4 super-resolution of bicubic-downscaled photos, on the small image (a U-Net, PixelShuffle x4 at the end)', preset=None, scale=4,
            inputs='for small photos to make four times bigger', model=dict(factor=1, nf=48, scale=4), size=192, bs=16, minutes=25, epoch_size=16000,
            lr=2e-3, loss='l1', schedule='linear', sizes=((128, 192, 256), (0., 0.5, 0.8)), align=4, hold_out_eval=True, bsds=True),
    realistic=dict(task='blind restoration of the realistic preset (blur, noise, JPEG, resize)', preset='realistic',
                   inputs='for Real-ESRGAN-style heavy degradations (blur, resize, noise and JPEG, twice); harms lightly degraded photos',
                   scale=1, model=dict(factor=4, nf=48), size=128, bs=16, epochs=24, epoch_size=1600, lr=1e-3, init='lesson7'),
    # Issue 31: H.264/H.265 damage undone with the two neighbouring frames aligned by optical flow (`tools/video_train.py`): NAF blocks as
    # `photo`'s, started from `photo`'s checkpoint (the middle frame's stem; the neighbours' zero), CRF 18-45 clips of panned photos and
    # of cockatoo.mp4's first 60 % of frames; a CPU budget with 2 threads, bf16 and channels-last as `photo`.
    video=dict(kind='video', task='undo H.264 / H.265 compression damage in a video frame, using its two neighbouring frames aligned by optical flow',
               inputs='for compressed video (lesson7ext-restore picks it for H.264, H.265, MPEG-4 and VP9 sources)', preset=None, scale=1,
               model=dict(arch='NafUnet', factor=2, nf=32, blocks=[1, 1, 4], frames=3), size=96, bs=16, minutes=60, samples=6000,
               valid_samples=256, epoch_size=6000, lr=5e-4, loss='mse', init='checkpoint:photo', bsds=True, hold_out_eval=True),
    colorize=dict(task='colorize black-and-white photos (the bw preset), then NoGAN (critic, GAN phase)', preset='bw', scale=1,
                  inputs='for black-and-white photos (lesson7ext-colorize)',
                  model=dict(factor=4, nf=48), size=128, bs=16, epochs=16, epoch_size=1600, lr=1e-3, init='lesson7',
                  gan=dict(crit_minutes=6, iters=600, ckpt_every=100, weights=(1., 10.), lr=1e-4)),
)
SEED = 0
ckpt_dir, log_dir, out_dir = root/'tools'/'checkpoints', root/'tools'/'logs', weights_dir

def eval_sun80(data):
    "The Sun80 photos `bench/photos.py` evaluates on, never trained on by `photo`: every 8th by name (10 photos)."
    return sorted((Path(data)/'Sun80').glob('*'))[3::8]

def eval_bsds(data):
    "The BSDS500 photos `bench/photos.py` evaluates on, never trained on by any model: every 20th of `test/` by name (10 photos)."
    return sorted((Path(data)/'BSDS500'/'test').glob('*.jpg'))[::20]

def eval_files(data, work):
    "`eval_sun80` as clean PNGs in `work/eval`, downscaled as the training photos are (480-px short side, Lanczos)."
    d, out = Path(work)/'eval', []
    for f in eval_sun80(data):
        dst = d/f'sun_{f.stem}.png'
        if not dst.exists():
            d.mkdir(parents=True, exist_ok=True)
            im = resize(open_image(f), short_side=480, method='lanczos')
            tmp = dst.with_name(f'.{dst.name}.tmp'); im.save(tmp, format='png'); os.replace(tmp, dst)
        out.append(dst)
    return out

def bundled_photos():
    "The photos bundled with this machine's scikit-image / scikit-learn (`sample_photos`, `extra_training_images`); a missing one is named and skipped."
    out = []
    for n in sample_names():
        try: out += sample_photos([n])
        except FileNotFoundError as e: print(f"skipped: {e}", flush=True)
    return out + extra_training_images()

def train_files(data, work, hold_out=False, bsds=False):
    "The training photos as PNGs in `work/train` (built once, deterministically); the validation photos among them. `bsds`: BSDS500's too."
    d, held = Path(work)/'train', set(eval_sun80(data)) if hold_out else set()
    cbsd = [f for f in sorted((Path(data)/'CBSD68').glob('*')) if f.suffix in ('.png', '.webp')]  # .gpudata carries them as lossless WebP
    bsds = [f for f in sorted((Path(data)/'BSDS500').glob('*/*.jpg')) if f not in set(eval_bsds(data))] if bsds else []  # JPEG q95 at 481x321
    srcs = ([('cbsd', f) for f in cbsd] + [('bsds', f) for f in bsds] + [('sun', f) for f in sorted((Path(data)/'Sun80').glob('*')) if f not in held]
            + [('bundled', f) for f in bundled_photos() if f.stem not in demo_held_back])
    files = []
    for kind, f in srcs:
        dst = d/f'{kind}_{f.stem}.png'
        if not dst.exists():
            d.mkdir(parents=True, exist_ok=True)
            im = open_image(f)
            if kind == 'sun' and min(im.size) > 480: im = resize(im, short_side=480, method='lanczos')
            tmp = dst.with_name(f'.{dst.name}.tmp'); im.save(tmp, format='png'); os.replace(tmp, dst)
        files.append(dst)
    valid = files[::25]
    return [f for f in files if f not in valid], valid

def seed_epoch(dls, epoch):
    "Seeds for the run's `epoch`-th epoch (counted across stages): the same crops and degradations when a run resumes."
    seed = SEED + 1000 * epoch
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
    dls.train.rng = random.Random(seed)

def epoch_values(recorder):
    "The last epoch's losses and metrics by name."
    return dict(zip(recorder.metric_names[1:-1], map(float, recorder.log[1:-1])))

def log_epoch(name, state):
    "The epoch's state beside the checkpoint (`NAME.json`, atomically) and as one line of `NAME.log`."
    atomic_write(ckpt_dir/f'{name}.json', json.dumps(state).encode())
    with open(log_dir/f'{name}.log', 'a') as f: f.write(json.dumps(dict(time=time.strftime('%Y-%m-%d %H:%M:%S'), **state)) + '\n')

class EpochCheckpoint(Callback):
    "After each epoch: checkpoint (model and optimizer, atomically) and one log line with the epoch's numbers."
    order = 65  # after the recorder has the epoch's metrics
    def __init__(self, name, done, minutes, offset=0): self.model_name, self.done, self.minutes0, self.offset = name, done, minutes, offset
    def before_epoch(self):
        seed_epoch(self.dls, self.offset + self.epoch)
        self.t0 = time.time()
    def after_epoch(self):
        if self.epoch < self.done: return
        minutes = self.minutes0 + (time.time() - self.t0) / 60
        buf = io.BytesIO()
        save_model(buf, self.model, self.opt, with_opt=True)
        atomic_write(ckpt_dir/f'{self.model_name}.pth', buf.getvalue())  # the package's one atomic write (temporary name, then rename)
        vals = epoch_values(self.recorder)
        log_epoch(self.model_name, dict(epoch=self.offset + self.epoch + 1, minutes=minutes, **vals))
        self.minutes0 = minutes
        print(f"{self.model_name} epoch {self.offset + self.epoch + 1}/{self.offset + self.n_epoch}: " + ', '.join(f'{k} {v:.4f}' for k, v in vals.items()) + f", {minutes:.1f} min", flush=True)

def learner(name, data, work, workers=None):
    r = RECIPES[name]
    train, valid = train_files(data, work, r.get('hold_out_eval', False), r.get('bsds', False))
    if os.path.isdir('/dev/shm') and shutil.disk_usage('/dev/shm').free < 2**30:  # a container's small /dev/shm: workers pass batches through files
        torch.multiprocessing.set_sharing_strategy('file_system')
    if workers is None and torch.cuda.is_available(): workers = r.get('workers')  # a GPU's data comes from worker processes; a CPU's from the main one
    if r.get('kind') == 'video':
        from video_train import video_dls
        dls = video_dls(work, train, valid, data, r)
    model = build_model({'arch': 'RestoreUnet', 'module': 'lesson7ext.zoo', **r['model']})  # a recipe's `model` may name its `arch` (default RestoreUnet)
    if r.get('kind') != 'video':  # a net that upscales by itself (`LrSrNet`) is given the small image
        dls = restoration_dls(train, r['preset'], size=r['size'], bs=r['bs'], scale=r['scale'], valid_files=valid, epoch_size=r['epoch_size'],
                              align=r.get('align', 1), num_workers=workers, lr_input=getattr(model, 'upscales', 1) > 1)
    learn = restoration_learner(dls, model, loss_func=LOSSES[r.get('loss', 'l1')])
    learn.train_files, learn.valid_files = train, valid
    return learn, train

class BudgetLog(Callback):
    "A budget run's log: per epoch, seeds set as `EpochCheckpoint` sets them, one line to the log and the state (epochs, minutes, samples) beside the checkpoint."
    order = 71  # after `BudgetCheckpoint` (70) has written the epoch's weights
    def __init__(self, name, state): self.model_name, self.state, self.last = name, dict(state), dict(state)
    def before_fit(self): self.tb = next(c for c in self.learn.cbs if isinstance(c, TimeBudget))
    def before_epoch(self): seed_epoch(self.dls, self.state['epoch'] + self.epoch)
    def after_batch(self):
        if self.training: self.state['samples'] += len(self.xb[0])
    def after_epoch(self):
        vals = epoch_values(self.recorder)
        st = self.last = dict(self.state, epoch=self.state['epoch'] + self.epoch + 1, minutes=self.tb.minutes_spent, **vals)
        log_epoch(self.model_name, st)
        print(f"{self.model_name} epoch {st['epoch']}: " + ', '.join(f'{k} {v:.4f}' for k, v in vals.items())
              + f", {st['samples']} samples, {st['minutes']:.2f} of {self.tb.minutes:g} min", flush=True)

def hardware(learn, threads):
    "Where a run trains: the GPU and its DataLoader workers, or the CPU and its threads."
    if learn.dls.device is not None and learn.dls.device.type == 'cuda':
        return f"{torch.cuda.get_device_name()}, {learn.dls.train.fake_l.num_workers} DataLoader workers on {os.cpu_count()} CPU cores ({cpu_name()})"
    return f"{cpu_name()}, {threads} thread(s), CPU"

def start_from(learn, init):
    "Load the shipped model `init` (same architecture) into `learn`, or `checkpoint:NAME`'s checkpoint widened to its frames; returns what it was."
    from lesson7ext.zoo import model_card
    if init.startswith('checkpoint:'):  # another recipe's unfinished checkpoint (`video` from `photo`'s): what it was, by its log
        from video_train import widen
        name = init.split(':', 1)[1]
        st = json.loads((ckpt_dir/f'{name}.json').read_text())
        print(f"starting from {name}'s checkpoint ({st['minutes']:.1f} min, epoch {st['epoch']})", flush=True)
        return dict(name=name, checkpoint_sha256=widen(learn.model, ckpt_dir/f'{name}.pth'), commit=commit(), **{k: st.get(k) for k in ('epoch', 'minutes', 'samples', 'psnr')})
    learn.model.load_state_dict(load_restorer(init).state_dict())
    c = model_card(init)
    print(f"starting from the shipped {init} model (commit {c.get('commit')}, {c.get('minutes')} min)", flush=True)
    return dict(name=init, **{k: c.get(k) for k in ('commit', 'date', 'minutes', 'hardware', 'recipe')})

def cpu_clock() -> float:
    "Seconds of CPU this process has used, over its threads: on a shared CPU, the budget counts the work done, not the time other jobs took."
    return time.process_time() / torch.get_num_threads()

def run_budget(name, learn, minutes):
    "Train (or resume) a budget recipe: `fit_budget` over `minutes` (a GPU's wall clock, a CPU's time given to it), checkpointed every minute; the state (done, epochs, minutes, samples)."
    r, ck, js = RECIPES[name], ckpt_dir/f'{name}.pth', ckpt_dir/f'{name}.json'
    key = json.dumps(dict(r, minutes=minutes), sort_keys=True)
    state = json.loads(js.read_text()) if js.exists() else {}
    if state.get('done'):
        load_model(ck, learn.model, None, with_opt=False)
        return state
    spent = resume_budget(learn, ck, key)
    if spent: print(f"{name}: resuming after {spent:.1f} of {minutes:g} minutes ({state['samples']} samples)", flush=True)
    else:  # a checkpoint of another recipe, or none: from the start (the recipe's `init` model, else random weights)
        state = dict(epoch=0, minutes=0., samples=0, **({'init': start_from(learn, r['init'])} if r.get('init') else {}))
    state['torch'] = torch.__version__
    state['hardware'] = ', then '.join(dict.fromkeys(filter(None, (state.get('hardware') or '').split(', then ') + [hardware(learn, torch.get_num_threads())])))
    log = BudgetLog(name, state)
    clock = time.monotonic if torch.cuda.is_available() else cpu_clock  # a GPU's budget is its wall clock; a CPU's, the CPU time it gave
    crops = [CropSchedule(*r['sizes'])] if r.get('sizes') else []  # small-to-large crops (`bench/sr_recipe.py`)
    fit_budget(learn, minutes, lr=r['lr'], cbs=[BudgetCheckpoint(ck, key, every=60), log] + crops, clock=clock, spent=spent,
               schedule=r.get('schedule', 'one_cycle'))  # its last epoch saved the final weights
    state = dict(log.last, samples=log.state['samples'], minutes=log.tb.minutes_spent, done=True, steps_per_epoch=len(learn.dls.train))
    atomic_write(js, json.dumps(state).encode())
    return state

def gan_stage(name, learn):
    "The recipe's NoGAN stages after the generator (critic pretraining, GAN phase; resumable in `ckpt_dir/NAME_nogan`): the generator."
    g = RECIPES[name].get('gan')
    if not g: return learn.model
    from lesson7ext.gan import nogan
    r = RECIPES[name]
    gl = nogan(learn.train_files, ckpt_dir/f'{name}_nogan', r['preset'], size=r['size'], bs=r['bs'], gen_learn=learn, gen_minutes=0,
               crit_minutes=g['crit_minutes'], gan_iters=g['iters'], gan_lr=g['lr'], ckpt_every=g['ckpt_every'], weights_gen=g['weights'],
               valid_files=learn.valid_files)
    return gl.model.generator

def stages(name):
    "The recipe's one-cycle stages as (first epoch, epochs, lr)."
    r, out, o = RECIPES[name], [], 0
    for st in [dict(epochs=r['epochs'], lr=r['lr'])] + r.get('then', []):
        out.append((o, st['epochs'], st['lr'])); o += st['epochs']
    return out

def run(name, data, work, workers=None):
    "Train (or resume) `name` through its stages or its budget; returns the learner, the training files and the state (epochs, minutes)."
    r = RECIPES[name]
    torch.manual_seed(SEED)
    learn, train = learner(name, data, work, workers)
    ckpt_dir.mkdir(parents=True, exist_ok=True); log_dir.mkdir(parents=True, exist_ok=True)
    if 'minutes' in r: return learn, train, run_budget(name, learn, r['minutes'])
    state = json.loads((ckpt_dir/f'{name}.json').read_text()) if (ckpt_dir/f'{name}.json').exists() else dict(epoch=0, minutes=0.)
    if not state['epoch'] and r.get('init'): start_from(learn, r['init'])  # a fresh start from another shipped model (same architecture)
    log_dir.mkdir(parents=True, exist_ok=True)
    for o, n, lr in stages(name):
        if state['epoch'] >= o + n: continue
        if state['epoch']:  # mid-stage: the optimizer too; at a stage's start: the weights, with a fresh optimizer
            learn.create_opt()
            load_model(ckpt_dir/f'{name}.pth', learn.model, learn.opt, with_opt=state['epoch'] > o)
            print(f"{name}: resuming after epoch {state['epoch']} ({state['minutes']:.1f} min done)", flush=True)
        learn.fit_one_cycle(n, lr, start_epoch=state['epoch'] - o, cbs=EpochCheckpoint(name, state['epoch'] - o, state['minutes'], o))
        state = json.loads((ckpt_dir/f'{name}.json').read_text())
    return learn, train, state

def from_shipped(name):
    "Checkpoint the shipped `name` as the end of its card's stages, so that stages added to its recipe since then train on from it."
    from lesson7ext.zoo import model_card
    c = model_card(name)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO(); save_model(buf, load_restorer(name), None, with_opt=False)
    atomic_write(ckpt_dir/f'{name}.pth', buf.getvalue())
    atomic_write(ckpt_dir/f'{name}.json', json.dumps(dict(epoch=c['recipe']['epochs'], minutes=c['minutes'])).encode())
    print(f"{name}: checkpointed the shipped model as epoch {c['recipe']['epochs']} ({c['minutes']} min)", flush=True)

def commit():
    try: return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=root, capture_output=True, text=True).stdout.strip() or None
    except OSError: return None

def cpu_name():
    "The CPU's model name (Linux), else the machine type."
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

def recipe_card(name, train, state):
    "The card's `recipe`: what trained the model (stages of epochs, or a wall-clock budget with the epochs and samples it reached)."
    r = RECIPES[name]
    common = dict(script='tools/pretrain.py', preset=r['preset'], scale=r['scale'], model=r['model'], size=r['size'], bs=r['bs'], epoch_size=r['epoch_size'],
                  lr=r['lr'], loss=r.get('loss', 'l1'), align=r.get('align', 1), seed=SEED, init=r.get('init'), gan=r.get('gan'))
    if 'minutes' in r:
        sched = "linear decay to zero after a 2 % warm-up" if r.get('schedule') == 'linear' else "fit_one_cycle's schedule"
        return dict(common, schedule=f"fit_budget: {sched} laid over the budget (a GPU's wall clock, a CPU's time given to the run)", budget_minutes=r['minutes'],
                    **({'crop_schedule': dict(sizes=list(r['sizes'][0]), at=list(r['sizes'][1]))} if r.get('sizes') else {}),
                    epochs=state['epoch'], samples=state['samples'], steps=round(state['samples'] / r['bs']),
                    **({'init_model': state['init']} if state.get('init') else {}))  # the model this stage started from, and how it was trained
    per_epoch = len(train) * math.ceil(r['epoch_size'] / len(train))  # `restoration_dls` repeats the photos to at least `epoch_size` crops
    return dict(common, epochs=sum(n for _, n, _ in stages(name)), samples=sum(n for _, n, _ in stages(name)) * per_epoch,
                schedule='fit_one_cycle' + (' per stage, each from the previous one\'s end with a fresh optimizer' if r.get('then') else ''),
                stages=[dict(epochs=n, lr=lr) for _, n, lr in stages(name)])

def card(name, train, state, scores, threads):
    r = RECIPES[name]
    kinds = sorted({f.name.split('_')[0] for f in train})
    hw = state.get('hardware') or f"{cpu_name()}, {threads} thread(s), " + (torch.cuda.get_device_name() if torch.cuda.is_available() else 'CPU')
    return dict(name=name, task=r['task'], inputs=r['inputs'], data=dict(sources=dict(cbsd='CBSD68 (68 photos, 481x321)', bsds='BSDS500 train/ and test/ (JPEG q95, 481x321) except the 10 bench/photos.py evaluates on', sun='Sun80 downscaled to a 480-px short side',
                bundled='scikit-image / scikit-learn photos except ' + ', '.join(demo_held_back)), used=kinds, n_photos=len(train),
                never='CSet5' + (', nor the 10 Sun80 photos bench/photos.py and bench/x4.py evaluate on (every 8th by name)' if r.get('hold_out_eval') else '')
                      + (", nor cockatoo.mp4's last 40 % of frames, nor realshort.mp4 (bench/video.py's)" if r.get('kind') == 'video' else ''),
                **({'clips': "cockatoo.mp4's first 60 % of frames (168), 6-frame stretches re-encoded at CRF 30-45; the photos panned and encoded as x264 / x265 clips at CRF 18-45 (tools/video_train.py)"}
                   if r.get('kind') == 'video' else {})),
                recipe=recipe_card(name, train, state), minutes=round(state['minutes'], 1),
                **({'gan_minutes': round(state['gan_minutes'], 1)} if 'gan_minutes' in state else {}), hardware=hw,
                torch=state.get('torch', torch.__version__), commit=commit(), date=time.strftime('%Y-%m-%d'), scores=scores)

def scores(name, model, data):
    "Held-out scores on CSet5 (the protocol of `protocols.heldout_scores`; `bench/pretrained.py` prints the same)."
    from lesson7ext.protocols import heldout_pairs, heldout_scores
    from lesson7ext.restore import restore
    from lesson7ext.gan import colorize
    model.eval()
    apply = (lambda im: colorize(im, model)) if name == 'colorize' else (lambda im: restore(im, model, scale=RECIPES[name]['scale']))
    if name == 'video':
        from video_train import video_scores
        return video_scores(model, data)
    if name != 'photo': return heldout_scores(apply, heldout_pairs(Path(data)/'CSet5', name))
    from lesson7ext.protocols import photo_grid  # the blind model: every input row of bench/photos.py, and the realistic task for the card's Y-PSNR row
    grid = {k: {m: round(v[m], 3) for m in ('input', 'gain', 'worst')} for k, v in photo_grid(apply, sorted((Path(data)/'CSet5').glob('*.png'))).items()}
    return dict(heldout_scores(apply, heldout_pairs(Path(data)/'CSet5', 'realistic')), grid=grid)

STRENGTHS = (0., 0.25, 0.5, 0.75, 1.)

def calibrate(model, files):
    "The card's strengths, measured on the validation photos `files` (never CSet5 nor the bench's): per JPEG quality the file shows, and for the rest."
    from lesson7ext.protocols import photo_inputs, jpeg_file
    from lesson7ext.losses import psnr
    from lesson7ext.folder import file_seed
    from lesson7ext.restore import restore, image_quality
    rows = dict(photo_inputs, **{f'jpeg q{q}': (lambda q: lambda im, s: jpeg_file(im, q))(q) for q in (5, 20, 40, 60, 70, 90, 95)})
    gains = {}  # quality the file shows (None: not a JPEG) -> strength -> gains of every photo of that group
    for row, f in rows.items():
        for fn in files:
            hr = open_image(fn)
            x = f(hr, file_seed(0, fn.name))
            q = image_quality(x)['quality']
            a, y, t = (np.asarray(im.convert('RGB'), dtype=np.float64) for im in (x, restore(x, model, strength=1.), hr))
            base = psnr(a, t, 4, y_channel=False)
            for st in STRENGTHS:  # a clean photo's "gain": 0 while it stays at 40 dB or more against itself, the shortfall below
                out = min(psnr(np.round(a + st * (y - a)), t, 4, y_channel=False), 100.)
                gains.setdefault(q, {}).setdefault(st, []).append((row == 'clean', min(out - 40., 0.) if row == 'clean' else out - base))
    score = lambda v: np.mean([g for c, g in v if not c] or [0.])
    best = lambda g: max(STRENGTHS, key=lambda st: (min(x for _, x in g[st]) >= -0.1, score(g[st])))  # the best mean gain among those that harm no photo
    table = [[q, best(g)] for q, g in sorted((q, g) for q, g in gains.items() if q is not None and any(not c for c, _ in g[1.]))]  # a quality seen on degraded photos
    return dict(strength=best(gains[None]), strength_by_quality=table, strength_measured=dict(photos=[f.stem for f in files],
                gains={str(q): {str(st): round(float(score(v)), 3) for st, v in g.items()} for q, g in gains.items()}))

def finish(name, learn, train, state, data, threads):
    t0 = time.monotonic()
    model = gan_stage(name, learn)
    if RECIPES[name].get('gan'):  # the card's minutes: the pixel-loss epochs and this run's NoGAN stages (critic, GAN phase)
        state = dict(state, gan_minutes=(time.monotonic() - t0) / 60, minutes=state['minutes'] + (time.monotonic() - t0) / 60)
    cal = calibrate(model.eval(), learn.valid_files) if name == 'photo' else {}
    if RECIPES[name].get('kind') == 'video':
        from video_train import calibrate_crf
        cal = calibrate_crf(model.eval(), data, learn.valid_files)
    model.restorer_info = dict(card=cal)  # `restore` scores CSet5 at the strengths a user gets
    sc = scores(name, model, data)
    out = export_restorer(model, out_dir/f'{name}.safetensors', scale=RECIPES[name]['scale'], card=dict(card(name, train, state, sc, threads), **cal))
    os.chmod(out, 0o644)
    print(f"wrote {out}: {json.dumps(sc)}", flush=True)
    for f in (ckpt_dir/f'{name}.pth', ckpt_dir/f'{name}.json', ckpt_dir/f'{name}.pth.json'): f.unlink(missing_ok=True)
    shutil.rmtree(ckpt_dir/f'{name}_nogan', ignore_errors=True)

def recard(name):
    "Rewrite the shipped `name`'s card with the recipe's `inputs` line (weights and scores unchanged; the file is rewritten atomically)."
    from lesson7ext.zoo import load_restorer, model_card
    m, c = load_restorer(name), model_card(name)
    out = export_restorer(m, out_dir/f'{name}.safetensors', scale=m.scale, card=dict(c, inputs=RECIPES[name]['inputs']))
    os.chmod(out, 0o644)
    print(f"{name}: card now says {RECIPES[name]['inputs']!r}")

def main():
    global ckpt_dir, log_dir, out_dir
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('name', choices=list(RECIPES))
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--work', default=str(Path.home()/'.cache'/'lesson7ext'/'pretrain'))
    p.add_argument('--threads', type=int, default=None, help='intra-op threads (default: torch\'s)')
    p.add_argument('--epochs', type=int, help='override the recipe (quick checks; the card records it)')
    p.add_argument('--epoch-size', type=int, help='override the recipe (quick checks)')
    p.add_argument('--minutes', type=float, help='override a budget recipe\'s wall-clock minutes (the card records what was reached)')
    p.add_argument('--bs', type=int, help='override the recipe\'s batch size')
    p.add_argument('--lr', type=float, help='override the recipe\'s peak learning rate (a run from a shipped model, `--init`, may want less)')
    p.add_argument('--workers', type=int, help='DataLoader workers, on any machine (default: the recipe\'s on a GPU, none on a CPU)')
    p.add_argument('--train-only', action='store_true', help='stop after training, keeping the checkpoint: rerun without it (e.g. on another machine) to score and write the model')
    p.add_argument('--out', help=f'folder of the finished model and of the checkpoints (default: {weights_dir} and {ckpt_dir})')
    p.add_argument('--recalibrate', action='store_true', help="`video` only: measure the shipped model's strengths and scores again and rewrite its card")
    p.add_argument('--recard', action='store_true', help="only rewrite the shipped model's card with the recipe's `inputs` line")
    p.add_argument('--init', help="a budget recipe: start a new run from this shipped model instead of the recipe's `init` (`video --init video --minutes 120`: the shipped `video` trained on for 120 more minutes)")
    p.add_argument('--from-shipped', action='store_true', help="start from the shipped model, as the end of the stages its card lists (for stages added since)")
    a = p.parse_args()
    if a.out: ckpt_dir = log_dir = out_dir = Path(a.out)
    if a.recard: return recard(a.name)
    if a.recalibrate:  # `video`: the strengths and scores measured again, the weights unchanged
        from video_train import recalibrate
        return print(f"wrote {recalibrate(out_dir/f'{a.name}.safetensors', a.data, train_files(a.data, a.work, True, True)[1])}", flush=True)
    if not torch.cuda.is_available(): RECIPES[a.name].update(RECIPES[a.name].get('cpu', {}))  # a recipe's CPU settings (`bench/photo_training.py`)
    for k in ('epochs', 'epoch_size', 'minutes', 'bs', 'lr', 'init'):
        if getattr(a, k): RECIPES[a.name][k] = getattr(a, k)
    if a.threads: torch.set_num_threads(a.threads)
    if a.from_shipped and not (ckpt_dir/f'{a.name}.json').exists(): from_shipped(a.name)
    learn, train, state = run(a.name, a.data, a.work, a.workers)
    if a.train_only: return print(f"{a.name}: trained ({state['minutes']:.1f} min); checkpoint in {ckpt_dir}", flush=True)
    finish(a.name, learn, train, state, a.data, torch.get_num_threads())

if __name__ == '__main__': main()
