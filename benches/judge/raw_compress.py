"""Time per page and size ratio of deflate (zlib) levels 1 and 6 on magic-html pages: the
figures in docs/BENCHMARKS.md ("Ingest rate", 2026-12-03) that moved raw pages to zstd.

usage: python3 raw_compress.py [DATA_DIR] [PAGES]   (default ../shared/data, 60 pages)
"""
import glob
import gzip
import sys
import time
import zlib

data_dir = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
files = sorted(glob.glob(f"{data_dir}/extraction-magic-html/article/htmls/*.gz"))[:n]
pages = [gzip.open(f).read() for f in files]
total = sum(map(len, pages))
print(f"{len(pages)} pages, {total / len(pages) / 1024:.0f} KB on average")
for level in (1, 6):
    t = time.time()
    out = sum(len(zlib.compress(p, level)) for p in pages)
    print(f"deflate level {level}: {(time.time() - t) / len(pages) * 1000:.2f} ms a page, ratio {out / total:.3f}")
