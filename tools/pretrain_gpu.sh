#!/usr/bin/env bash
# Train `photo` on a CUDA machine, then score and ship it anywhere.
#
#   bash tools/pretrain_gpu.sh OUT [MINUTES]     # on the GPU machine, from the repo root (MINUTES: 8 by default)
#
# The GPU machine needs torch, torchvision, scikit-image, scikit-learn, accelerate and safetensors; fastai and the
# pure-Python packages it needs can come as wheels in `.whl/` (installed into /tmp/site, no network), and the training
# photos as `.gpudata/` (CBSD68/ as lossless WebP, the same pixels in less of the 64 MiB a call may carry, and Sun80/, from ../shared/data)
# when ../shared/data is not there. PyAV's wheel (for the photo mixture's H.264) comes in `.whl/` too. It trains
# `tools/pretrain.py photo --train-only` for MINUTES (default 8: the recipe's 480 are a CPU's, over many sessions) with the recipe's DataLoader workers and
# leaves in OUT the checkpoint (photo.pth, photo.pth.json), the state (photo.json), the per-epoch log (photo.log) and
# the whole output (photo_gpu.log). The wheels of the run that trained the shipped model (Python 3.12 there), fetched
# here with `pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64
# --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl fastai==2.8.12 fastcore==2.2.41
# fastdownload==0.0.8 fastprogress==1.0.3 fasttransform==0.0.5 plum-dispatch==2.9.0 beartype==0.23.1 av==18.1.0` (PyAV: a mixture with
# `RandH264`; its 34 MiB leave room in a call's 64 MiB only when the tracked notebooks and the other models' weights stay behind)
# (fastprogress 1.0.3: 1.1 needs python-fasthtml). Back on any machine (the CPU here):
#
#   cp OUT/photo.pth OUT/photo.pth.json OUT/photo.json tools/checkpoints/ && cat OUT/photo.log >> tools/logs/photo.log
#   python tools/pretrain.py photo     # sees the finished budget: calibrates, scores, writes lesson7ext/weights/photo.safetensors
set -euo pipefail
out=${1:?usage: bash tools/pretrain_gpu.sh OUT [MINUTES]}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
data=../shared/data; [ -d "$data/CBSD68" ] || data=.gpudata
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(), 'torch', torch.__version__)"
python3 tools/pretrain.py photo --data "$data" --work /tmp/lesson7ext-pretrain --out "$out" --threads 2 --train-only \
  --minutes "${2:-8}" 2>&1 | tee "$out/photo_gpu.log"
