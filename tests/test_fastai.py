"The crappify transforms inside real fastai DataLoaders, with worker processes."
import numpy as np, pytest, torch
from PIL import Image
from fastai.vision.all import DataBlock, ImageBlock, Resize, IntToFloatTensor

from lesson7ext.data import CrappifyItem, CrappifyBatch
from lesson7ext.data import sample_photos

@pytest.fixture
def same_photo_folder(tmp_path):
    img = Image.open(sample_photos(['chelsea'])[0]).resize((96, 64))
    for i in range(8): img.save(tmp_path/f'{i}.png')
    return tmp_path

def _dls(path, item_tfms, batch_tfms, workers):
    db = DataBlock(blocks=(ImageBlock, ImageBlock), get_items=lambda p: sorted(p.glob('*.png')),
                   item_tfms=item_tfms, batch_tfms=batch_tfms, splitter=lambda o: (list(range(8)), list(range(8))))
    return db.dataloaders(path, bs=1, num_workers=workers, shuffle=False)

def test_workers_do_not_repeat_each_other(same_photo_folder):
    dls = _dls(same_photo_folder, [CrappifyItem('lesson7')], [], workers=2)
    xs = [x[0].cpu().numpy().tobytes() for x, _ in dls.train]
    assert len(set(xs)) == len(xs)          # 8 copies of one photo, 8 different degradations

def test_validation_fixed_across_epochs(same_photo_folder):
    dls = _dls(same_photo_folder, [Resize(64)], [CrappifyBatch('realistic')], workers=0)
    e1 = [x.clone() for x, _ in dls.valid]
    e2 = [x.clone() for x, _ in dls.valid]
    for a, b in zip(e1, e2): assert torch.equal(a, b)
    t1 = [x.clone() for x, _ in dls.train]
    t2 = [x.clone() for x, _ in dls.train]
    assert any(not torch.equal(a, b) for a, b in zip(t1, t2))
    x, y = dls.one_batch()
    assert x.shape == y.shape and (x - y).abs().mean() > 0.005

def _mse_stats(dls, n=12):
    "Mean and spread of the per-sample MSE between input and target over `n` training batches, and on the validation set."
    d = []
    for i, (x, y) in enumerate(dls.train):
        d += ((x - y) ** 2).mean((1, 2, 3)).tolist()
        if i + 1 == n: break
    v = float(np.mean([((x - y) ** 2).mean().item() for x, y in dls.valid]))
    return float(np.mean(d)), float(np.std(d)), v

@pytest.mark.parametrize('preset,scale', [('lesson7', 1), ('realistic', 1), (None, 4)])
def test_item_and_device_paths_same_statistics(preset, scale):
    "Crop-first on the item and crop_tensor on the device degrade like the whole photo would: same statistics."
    import random
    from lesson7ext.data import restoration_dls
    from lesson7ext.crappify import get_crappifier
    def stats(on_device):  # seeded (crops, shuffling, degradations): the comparison is reproducible, not a coin toss
        random.seed(0); torch.manual_seed(0)
        crap = get_crappifier(preset, seed=1) if preset else None
        return _mse_stats(restoration_dls(crappifier=crap, scale=scale, size=96, bs=16, epoch_size=400, seed=1, on_device=on_device))
    item, dev = stats(False), stats(True)
    assert abs(item[0] - dev[0]) < 0.2 * item[0] + 0.003, (item, dev)   # mean over ~190 random crops each
    assert abs(item[1] - dev[1]) < 0.3 * item[1] + 0.003, (item, dev)
    assert abs(item[2] - dev[2]) < 0.1 * item[2] + 0.002, (item, dev)   # the fixed validation degradations

def test_device_path_degrades_crops_as_parts_of_photos():
    "The old on-device path crappified each crop as if it were the photo (lesson7: a 96-px crop barely shrinks)."
    from lesson7ext.data import restoration_dls
    kw = dict(crappifier='lesson7', size=96, bs=16, epoch_size=200, seed=1)
    dev = _mse_stats(restoration_dls(on_device=True, **kw), n=6)
    old = _dls_crop_as_photo()
    assert dev[0] > 2 * old, (dev, old)

def _dls_crop_as_photo():
    from fastai.vision.all import RandomCrop, Normalize, imagenet_stats
    db = DataBlock(blocks=(ImageBlock, ImageBlock), get_items=lambda _: sample_photos() * 10, item_tfms=RandomCrop(96),
                   batch_tfms=[CrappifyBatch('lesson7'), Normalize.from_stats(*imagenet_stats)], splitter=lambda o: (list(range(len(o))), []))
    dls = db.dataloaders(None, bs=16, num_workers=0)
    return float(np.mean([((x - y) ** 2).mean().item() for i, (x, y) in zip(range(6), dls.train)]))
