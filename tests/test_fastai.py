"The crappify transforms inside real fastai DataLoaders, with worker processes."
import numpy as np, pytest, torch
from PIL import Image
from fastai.vision.all import DataBlock, ImageBlock, Resize, IntToFloatTensor

from lesson7ext.crappify import CrappifyItem, CrappifyBatch
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
