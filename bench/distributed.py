"""Samples/s of `train` on 1 vs 2 CPU processes (gloo, `accelerate launch`), the same global batch, and the share of a
synchronised step that is communication.

    python bench/distributed.py [--minutes 1.5] [--size 96] [--bs 16] [--data ../shared/data/CBSD68]

Rows: 1 process with 1 thread (the baseline the issue asks for), 2 processes with 1 thread each (global batch the
same: `bs/2` per process), and, for reference, 1 process with 2 threads (what one user on this machine would run).
Each run is `train_restorer` (lesson7 crappifier on the fly, the default `RestoreUnet`, fp32) for `--minutes`; the first
5 steps are not timed. The communication share comes from the 2-process run itself: blocks of 5 steps alternate
between synchronised steps and steps inside DDP's `no_sync()` (no gradient all-reduce), and
share = 1 - (mean no_sync step) / (mean synchronised step).
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve()
WARM = 5  # steps not timed (first batches, allocator warm-up)

def worker(a):
    "One process of a run: train, time the steps, rank 0 writes the numbers."
    import torch
    from fastai.vision.all import Callback, find_bs
    from torch.nn.parallel import DistributedDataParallel as DDP
    from lesson7ext.train import train_restorer
    from lesson7ext.train import final_metrics
    from lesson7ext.distributed import is_main, gather_objects
    torch.set_num_threads(a.threads)
    world = int(os.environ.get('WORLD_SIZE', 1))

    class Meter(Callback):
        order = 12  # after fastai's `DistributedTrainer` (11) wrapped the model
        def before_fit(self): self.i, self.t0, self.n, self.times, self.ctx = 0, None, 0, {True: [], False: []}, None
        def before_batch(self):
            if not self.training: return
            self.sync = (self.i // 5) % 2 == 0 or not isinstance(self.learn.model, DDP)
            if not self.sync: self.ctx = self.learn.model.no_sync(); self.ctx.__enter__()
            self.tb = time.perf_counter()
            if self.i == WARM: self.t0 = self.tb
        def after_batch(self):
            if not self.training: return
            now = time.perf_counter()
            if self.ctx is not None: self.ctx.__exit__(None, None, None); self.ctx = None
            if self.i >= WARM:
                self.times[self.sync].append(now - self.tb)
                self.n += find_bs(self.learn.yb) * world
                self.t1 = now
            self.i += 1

    m = Meter()
    m.t1 = None
    files = sorted(Path(a.data).glob('*.png'))
    learn = train_restorer(files, None, 'lesson7', a.minutes, a.size, a.bs // world, valid_files=files[:4], epoch_size=512,
                           precision='fp32', quiet=True, cbs=[m])
    if m.t1 is None or m.t1 <= m.t0: sys.exit(f'only {m.i} steps: give more --minutes')
    res = dict(samples_per_s=m.n / (m.t1 - m.t0), steps=m.i, sync=gather_objects(m.times[True]), nosync=gather_objects(m.times[False]),
               psnr=final_metrics(learn).get('psnr'))
    if is_main(): Path(a.results).write_text(json.dumps(res))

def run(procs, threads, a, results):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONWARNINGS='ignore')
    args = [str(HERE), '--worker', '--results', results, '--threads', str(threads), '--minutes', str(a.minutes), '--size', str(a.size),
            '--bs', str(a.bs), '--data', a.data]
    launcher = [sys.executable] if procs == 1 else [sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes',
               str(procs), '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no']
    r = subprocess.run(launcher + args, capture_output=True, text=True, env=env)
    if r.returncode: sys.exit(f"run with {procs} process(es) failed:\n{(r.stdout + r.stderr)[-3000:]}")
    return json.loads(Path(results).read_text())

def mean(xs): return sum(xs) / len(xs) if xs else float('nan')

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--minutes', type=float, default=1.5)
    p.add_argument('--size', type=int, default=96)
    p.add_argument('--bs', type=int, default=16, help='global batch')
    p.add_argument('--data', default=str(HERE.parents[1].parent/'shared'/'data'/'CBSD68'))
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--worker', action='store_true')
    p.add_argument('--results')
    a = p.parse_args()
    if a.worker: return worker(a)
    d = Path(tempfile.mkdtemp())
    rows = [(1, 1), (2, 1), (1, 2)]
    res = {r: run(*r, a, str(d/f'{r[0]}x{r[1]}.json')) for r in rows}
    base = res[(1, 1)]['samples_per_s']
    print(f"train, lesson7 on the fly, {a.size}-px crops, global batch {a.bs}, {a.minutes:g} min per run, CPU: {os.cpu_count()} cores, gloo\n")
    print("| processes x threads | batch per process | samples/s | vs 1 x 1 | synchronised step | no_sync step | communication share |")
    print("|---|---|---|---|---|---|---|")
    for (n, t), r in res.items():
        s, ns = mean(r['sync'][0]), mean(r['nosync'][0])
        share = f"{1 - ns / s:.0%}" if n > 1 else '-'
        print(f"| {n} x {t} | {a.bs // n} | {r['samples_per_s']:.1f} | {r['samples_per_s'] / base:.2f}x | {s * 1000:.0f} ms | "
              f"{'%.0f ms' % (ns * 1000) if n > 1 else '-'} | {share} |")

if __name__ == '__main__': main()
