"Build the docs site offline and check it in headless Chromium (one test: the build is shared and slow)."
import shutil, subprocess, sys
from pathlib import Path
import pytest

root = Path(__file__).resolve().parents[1]
chromium = shutil.which('chromium') or shutil.which('chromium-browser')
args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']

def images_loaded(page):
    return page.eval_on_selector_all('img', 'els => els.filter(e => e.complete && e.naturalWidth > 0).length')

def test_docs_site():
    r = subprocess.run([sys.executable, 'tools/build_docs.py'], cwd=root, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    site = root/'site'
    for nb in (root/'nbs').glob('[0-9]*.ipynb'):                     # every notebook is a page
        assert (site/(nb.stem.split('_', 1)[1] + '.html')).exists(), nb
    if chromium is None: pytest.fail('chromium not installed: apt-get install chromium (tools/test.sh does it)')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=args)
        page = b.new_page()
        page.goto((site/'index.html').as_uri())
        assert 'lesson7ext' in page.title()
        assert page.locator('h1', has_text='lesson7ext').count() >= 1
        assert page.get_by_text('lesson7ext-demo').count() >= 1
        assert images_loaded(page) >= 1
        page.goto((site/'crappify.html').as_uri())
        assert page.title().startswith('crappify')
        assert page.locator('h1', has_text='crappify').count() == 1
        for name in ('Crappifier', 'RandJPEG', 'Crappifier.crop'):
            assert page.locator('h3', has_text=name).count() >= 1, name          # API reference entries
        assert images_loaded(page) >= 1
        assert page.locator('text=Traceback').count() == 0
        page.goto((site/'data.html').as_uri())
        for name in ('CrappifyItem', 'CrappifyBatch', 'restoration_dls'): assert page.locator('h3', has_text=name).count() >= 1, name
        assert images_loaded(page) >= 2
        page.goto((site/'degrade.html').as_uri())
        for name in ('resize', 'jpeg', 'watermark'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'folder.html').as_uri())
        assert page.locator('h3', has_text='crappify_folder').count() >= 1
        assert page.get_by_text('Worker processes').count() >= 1                  # docments rendered
        page.goto((site/'images.html').as_uri())
        for name in ('open_image', 'output_names', 'atomic_write'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'pretrained.html').as_uri())
        assert page.locator('h1', has_text='Models').count() == 1 and page.locator('text=Traceback').count() == 0
        for name in ('photo', 'lesson7', 'realistic'):                                 # the table of contents keeps the model names
            assert page.locator('.md-nav--secondary a', has_text=f'{name}:').count() >= 1, name
        page.goto((site/'restore.html').as_uri())
        for name in ('restore', 'jpeg_quality', 'default_strength'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'train.html').as_uri())
        for name in ('restoration_learner', 'StuckGuard', 'train_restorer'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'zoo.html').as_uri())
        for name in ('RestoreUnet', 'load_restorer', 'card_rows'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'gan.html').as_uri())
        for name in ('nogan', 'gan_learner', 'save_preds', 'colorize', 'wgan_learner'):
            assert page.locator('h3', has_text=name).count() >= 1, name
        assert images_loaded(page) >= 2                                            # sample grids, colorize pictures
        page.goto((site/'models.html').as_uri())
        assert page.locator('h3', has_text='ResBlock').count() >= 1 and images_loaded(page) >= 2   # digits, loss curves
        page.goto((site/'rnn.html').as_uri())
        assert page.locator('h3', has_text='Model5').count() >= 1 and page.locator('table').count() >= 2
        assert page.locator('text=Traceback').count() == 0
        page.goto((site/'web_app.html').as_uri())
        assert page.locator('h1', has_text='Web app').count() == 1 and images_loaded(page) >= 1   # the page's screenshot
        assert page.get_by_text('lesson7ext-app').count() >= 1 and page.locator('table').count() >= 2   # options, speed
        page.goto((site/'app.html').as_uri())
        for name in ('inspect_upload', 'Workspace', 'run_job', 'app'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'cli.html').as_uri())
        for name in ('restore_cmd', 'demo_cmd', 'app_cmd'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'batch.html').as_uri())
        for name in ('restore_files', 'crappify_files'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'video_guide.html').as_uri())
        assert page.locator('h1', has_text='Video').count() == 1 and images_loaded(page) >= 1 and page.locator('table').count() >= 3
        page.goto((site/'video.html').as_uri())
        for name in ('restore_video', 'Stabilizer', 'probe_video', 'join_segments'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'published_guide.html').as_uri())
        assert page.locator('h1', has_text='Published models').count() == 1 and page.locator('table').count() >= 1
        for words in ('--jpeg-quality', '--init fbcnn_color.pth', 'lesson7ext-export photo --onnx', 'github.com/jiaxi-jiang/FBCNN/releases'):
            assert page.get_by_text(words).count() >= 1, words
        page.goto((site/'export.html').as_uri())
        for name in ('InferenceGraph', 'export_onnx', 'onnx_check'): assert page.locator('h3', has_text=name).count() >= 1, name
        page.goto((site/'published.html').as_uri())
        for name in ('PublishedRestorer', 'load_published', 'published_from_weights'): assert page.locator('h3', has_text=name).count() >= 1, name
        b.close()
