"The tensor `resize` against PIL over a grid of sizes, up and down, every method: finite, and within 1.5/255."
import numpy as np, pytest
from PIL import Image
from lesson7ext.images import pil2tensor
from lesson7ext.degrade import resize, resize_methods

@pytest.mark.parametrize('method', resize_methods)
def test_resize_grid_matches_pil(method):
    rng, bad = np.random.default_rng(0), []
    for n_in in range(2, 80):
        for horizontal in (True, False):
            if not horizontal and n_in % 3: continue  # the vertical pass is the same code: a coarser grid
            a = rng.integers(0, 256, (3, n_in, 3) if horizontal else (n_in, 3, 3), dtype=np.uint8)
            img = Image.fromarray(a); x = pil2tensor(img)[None]
            for n_out in range(2, 160):
                to = (n_out, 3) if horizontal else (3, n_out)
                ref = np.asarray(resize(img, to=to, method=method), dtype=np.float32)
                with np.errstate(all='raise'): y = resize(x, to=to, method=method)[0].permute(1, 2, 0).numpy() * 255
                if not np.isfinite(y).all() or np.abs(y - ref).max() > 1.5: bad.append((horizontal, n_in, n_out))
    assert not bad, f"{len(bad)} size pairs differ from PIL, e.g. {bad[:5]}"
