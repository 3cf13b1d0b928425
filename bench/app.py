"""The web page against the command line, in one run: seconds from upload to result for a 1-MP JPEG and a 12-MP one
(a camera's), first-page load, the server's peak memory, and requests per minute held at --concurrency 1 and 2.

    python bench/app.py [--data ../shared/data] [--requests 8]

The photo: the first Sun80 photo `bench/photos.py` holds out, resized to 1 MP (and to 4000x3000) and saved as JPEG q75. The server is
`python -m lesson7ext.cli app` in a subprocess (the tests' `Server`); the API calls go through `gradio_client`. The
command line is timed twice: `lesson7ext-restore` as a user runs it (a new process: imports and model load included),
and its library call `restore_files` in a warm process (what the page runs per request)."""
import argparse, shutil, subprocess, sys, tempfile, threading, time, urllib.request
from pathlib import Path
from PIL import Image

root = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(root), str(root/'tests'), str(root/'tools')]
from test_app import Server, chromium, args as chromium_args

def photo(data, tmp, mp=1):
    from pretrain import eval_sun80
    im = Image.open(eval_sun80(data)[0]).convert('RGB')
    s = (mp * 1e6 / (im.width * im.height)) ** 0.5
    im = im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.LANCZOS)
    dst = Path(tmp)/f'photo_{mp}mp.jpg'
    im.save(dst, quality=75)
    return dst, im.size

def peak_rss(pid, f):
    "`(f(), the largest RSS of process pid in MB while it ran)`."
    import psutil
    proc, peak, done = psutil.Process(pid), [0.], threading.Event()
    def watch():
        while not done.is_set(): peak[0] = max(peak[0], proc.memory_info().rss / 2**20); time.sleep(0.05)
    t = threading.Thread(target=watch); t.start()
    try: return f(), peak[0]
    finally: done.set(); t.join()

def timed(f, n=3):
    "The median of `n` runs of `f()` in seconds."
    ts = []
    for _ in range(n):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]

def api_call(srv, f, tmp):
    from gradio_client import Client, handle_file
    c = Client(srv.url, verbose=False, download_files=str(tmp))
    return lambda: c.predict([handle_file(f)], 'photo', True, 1., api_name='/restore')

def page_load(srv):
    "Seconds to the page's HTML, and (in Chromium) to its Restore button."
    html = timed(lambda: urllib.request.urlopen(srv.url).read())
    if chromium is None: return html, None
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=chromium_args)
        def load():
            page = b.new_page(); page.goto(srv.url)
            page.get_by_role('button', name='Restore', exact=True).wait_for(timeout=60_000); page.close()
        t = timed(load)
        b.close()
    return html, t

def per_minute(srv, f, tmp, n):
    "Requests per minute with `n` requests sent at once from threads."
    calls = [api_call(srv, f, Path(tmp)/str(i)) for i in range(n)]
    ts = [threading.Thread(target=c) for c in calls]
    t0 = time.perf_counter()
    for t in ts: t.start()
    for t in ts: t.join()
    return 60 * n / (time.perf_counter() - t0)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--requests', type=int, default=8, help='requests sent at once for the throughput rows')
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    f, size = photo(a.data, tmp)
    from lesson7ext.batch import restore_files
    from lesson7ext.restore import cached_restorer
    m = cached_restorer('photo')
    lib = timed(lambda: restore_files(m, [f], tmp/'lib', quiet=True))
    exe = shutil.which('lesson7ext-restore')
    cli = timed(lambda: subprocess.run([exe, f, '--out', tmp/'cli', '--quiet'], check=True, capture_output=True))
    big, big_size = photo(a.data, tmp, 12)
    lib12 = timed(lambda: restore_files(m, [big], tmp/'lib12', quiet=True), 1)
    rows, rpm = [], {}
    for conc in (1, 2):
        srv = Server('--concurrency', str(conc), '--ttl', '30')
        try:
            call = api_call(srv, f, tmp/f'api{conc}')
            call()  # the first request loads the model
            if conc == 1:
                api, (html, load) = timed(call), page_load(srv)
                (api12, _), peak12 = peak_rss(srv.proc.pid, lambda: (timed(api_call(srv, big, tmp/'api12'), 1), None))
            rpm[conc] = per_minute(srv, f, tmp/f'rpm{conc}', a.requests)
        finally: srv.stop()
    print(f"\n## Web page vs command line: one {size[0]}x{size[1]} JPEG (q75), model photo, this CPU\n")
    print("| measure | web page (API) | command line | difference |\n|---|---|---|---|")
    print(f"| upload to result (s, median of 3) | {api:.2f} | {cli:.2f} (new process) / {lib:.2f} (library call, warm) | {api - cli:+.2f} / {api - lib:+.2f} |")
    print(f"| upload to result, {big_size[0]}x{big_size[1]} JPEG (s, one run) | {api12:.1f} (server peak {peak12:.0f} MB) | {lib12:.1f} (library call, warm) | {api12 - lib12:+.1f} |")
    print(f"| first page load (s) | HTML {html:.3f}" + (f", Restore button shown in Chromium {load:.2f}" if load is not None else '') + " | | |")
    for conc, r in rpm.items(): print(f"| requests per minute, --concurrency {conc} ({a.requests} at once) | {r:.1f} | {60 / lib:.1f} (library, one after another) | |")
    shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
