"Shared fixtures: a folder of good photos and a corpus of every kind of bad or unusual input."
import io, shutil
from pathlib import Path
import numpy as np, pytest
from PIL import Image

from lesson7ext.data import sample_photos

def _exif_rotated(path, size=(64, 32), orientation=6):
    "A landscape JPEG whose EXIF says 'rotate 90 degrees clockwise' (shown portrait)."
    a = np.zeros((size[1], size[0], 3), np.uint8); a[:, : size[0] // 2] = 255  # left half white
    ex = Image.Exif(); ex[0x0112] = orientation
    Image.fromarray(a).save(path, quality=95, exif=ex.tobytes())

def make_corpus(root: Path) -> dict:
    "Write good, odd and bad images under `root`; return {relative name: expected outcome}."
    root.mkdir(parents=True, exist_ok=True)
    (root/'good').mkdir()
    for p in sample_photos(['chelsea', 'coffee']): shutil.copy(p, root/'good'/p.name)
    Image.open(sample_photos(['rocket'])[0]).save(root/'good'/'rocket_q95.jpg', quality=95)
    odd = root/'odd'; odd.mkdir()
    Image.open(sample_photos(['camera'])[0]).save(odd/'gray.png')
    rgba = Image.new('RGBA', (120, 100), (0, 0, 0, 0)); rgba.paste((255, 0, 0, 255), (0, 0, 60, 100)); rgba.save(odd/'rgba.png')
    pal = Image.open(sample_photos(['coffee'])[0]).convert('P', palette=Image.Palette.ADAPTIVE); pal.save(odd/'palette.png')
    Image.fromarray(np.full((100, 120), 65535, np.uint16)).save(odd/'white16.png')
    Image.open(sample_photos(['chelsea'])[0]).convert('CMYK').save(odd/'cmyk.jpg', quality=95)
    _exif_rotated(odd/'rotated.jpg', (640, 320))
    bad = root/'bad'; bad.mkdir()
    (bad/'empty.jpg').write_bytes(b'')
    (bad/'notes.png').write_text('this is not an image\n')
    data = (root/'good'/'rocket_q95.jpg').read_bytes()
    (bad/'truncated.jpg').write_bytes(data[: len(data) // 3])
    corrupt = bytearray((root/'good'/'coffee.png').read_bytes()); corrupt[200:4000] = bytes(3800); (bad/'corrupt.png').write_bytes(bytes(corrupt))
    Image.new('1', (20000, 10000)).save(bad/'bomb.png')  # 200 Mpx, a few KB on disk
    return dict(good=['good/chelsea.png', 'good/coffee.png', 'good/rocket_q95.jpg'],
                odd=['odd/gray.png', 'odd/rgba.png', 'odd/palette.png', 'odd/white16.png', 'odd/cmyk.jpg', 'odd/rotated.jpg'],
                bad={'bad/empty.jpg': 'empty file', 'bad/notes.png': 'not an image', 'bad/truncated.jpg': 'truncated',
                     'bad/corrupt.png': 'corrupt', 'bad/bomb.png': 'decompression bomb'})

@pytest.fixture(scope='session')
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp('corpus')
    return root, make_corpus(root)
