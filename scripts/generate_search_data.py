"""Generate the data shipped with ``jupyter_envhelper.search``.

Writes two files into ``jupyter_envhelper/search/data/``:

``popular.json.gz``
    The most popular PyPI projects, most popular first (rank = position + 1), each as
    ``[name, summary, keywords, latest_version, purpose]``. Summaries, keywords,
    ``Topic ::`` classifiers and versions come from PyPI's JSON API
    (``https://pypi.org/pypi/<name>/json``); ``purpose`` holds curated words
    (``PURPOSE_TAGS``) for projects whose own metadata does not say what they are for.

``import_names.json``
    Import name -> distribution names, for the common cases where they differ
    (``cv2`` -> ``opencv-python``). From ``IMPORT_NAMES`` below; the JSON API has no
    ``top_level.txt``, and we do not download wheels to read it.

The popularity order comes from ``scripts/search_seed.txt`` (one name per line, most
popular first, ``#`` comments allowed), or, with ``--stats FILE``, from a downloaded
download-count JSON in the usual ``{"rows": [{"project": ..., "download_count": ...}]}``
shape. Regenerate with::

    /path/to/python scripts/generate_search_data.py            # seed list, ~4000 names
    /path/to/python scripts/generate_search_data.py --stats top-pypi-packages.json
    /path/to/python scripts/generate_search_data.py --limit 500 --deadline 120

Fetches are concurrent but polite (``--concurrency``, default 16), with timeouts and
retries; projects that fail are kept with their rank and no summary. ``--deadline``
stops fetching after that many seconds and writes what was gathered.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "jupyter_envhelper" / "search" / "data"
SEED = Path(__file__).resolve().parent / "search_seed.txt"
JSON_API = "https://pypi.org/pypi/{name}/json"
USER_AGENT = "jupyter-envhelper-search-data-generator (+https://pypi.org/project/jupyter-envhelper)"

MAX_SUMMARY = 160
MAX_KEYWORDS = 10

# Import name -> distribution names (most common first), where they differ from the
# project name after normalization. Written by hand from the packages' documentation.
IMPORT_NAMES: dict[str, list[str]] = {
    "cv2": ["opencv-python", "opencv-python-headless", "opencv-contrib-python"],
    "sklearn": ["scikit-learn"],
    "skimage": ["scikit-image"],
    "skopt": ["scikit-optimize"],
    "PIL": ["pillow"],
    "yaml": ["pyyaml"],
    "bs4": ["beautifulsoup4"],
    "dateutil": ["python-dateutil"],
    "dotenv": ["python-dotenv"],
    "jose": ["python-jose"],
    "jwt": ["pyjwt"],
    "magic": ["python-magic"],
    "docx": ["python-docx"],
    "pptx": ["python-pptx"],
    "multipart": ["python-multipart"],
    "slugify": ["python-slugify"],
    "socketio": ["python-socketio"],
    "engineio": ["python-engineio"],
    "telegram": ["python-telegram-bot"],
    "Levenshtein": ["levenshtein", "python-levenshtein"],
    "ldap": ["python-ldap"],
    "json_logger": ["python-json-logger"],
    "pythonjsonlogger": ["python-json-logger"],
    "gitlab": ["python-gitlab"],
    "git": ["gitpython"],
    "github": ["pygithub"],
    "crontab": ["python-crontab"],
    "Crypto": ["pycryptodome", "pycrypto"],
    "Cryptodome": ["pycryptodomex"],
    "OpenSSL": ["pyopenssl"],
    "nacl": ["pynacl"],
    "jwcrypto": ["jwcrypto"],
    "google.protobuf": ["protobuf"],
    "google.cloud.storage": ["google-cloud-storage"],
    "google.cloud.bigquery": ["google-cloud-bigquery"],
    "googleapiclient": ["google-api-python-client"],
    "google_auth_oauthlib": ["google-auth-oauthlib"],
    "grpc": ["grpcio"],
    "grpc_status": ["grpcio-status"],
    "grpc_tools": ["grpcio-tools"],
    "attr": ["attrs"],
    "serial": ["pyserial"],
    "usb": ["pyusb"],
    "zmq": ["pyzmq"],
    "MySQLdb": ["mysqlclient"],
    "mysql": ["mysql-connector-python"],
    "psycopg2": ["psycopg2-binary", "psycopg2"],
    "psycopg": ["psycopg", "psycopg-binary"],
    "pymysql": ["pymysql"],
    "sqlalchemy": ["sqlalchemy"],
    "pymongo": ["pymongo"],
    "bson": ["pymongo"],
    "gridfs": ["pymongo"],
    "redis": ["redis"],
    "snowflake": ["snowflake-connector-python"],
    "databricks": ["databricks-sdk", "databricks-sql-connector"],
    "win32api": ["pywin32"],
    "win32con": ["pywin32"],
    "win32com": ["pywin32"],
    "pythoncom": ["pywin32"],
    "pywintypes": ["pywin32"],
    "wx": ["wxpython"],
    "gi": ["pygobject"],
    "cairo": ["pycairo"],
    "PyQt5": ["pyqt5"],
    "PyQt6": ["pyqt6"],
    "PySide6": ["pyside6"],
    "PySide2": ["pyside2"],
    "fitz": ["pymupdf"],
    "pymupdf": ["pymupdf"],
    "PyPDF2": ["pypdf2"],
    "pdfminer": ["pdfminer-six"],
    "fpdf": ["fpdf2", "fpdf"],
    "reportlab": ["reportlab"],
    "Bio": ["biopython"],
    "rdkit": ["rdkit"],
    "osgeo": ["gdal"],
    "netCDF4": ["netcdf4"],
    "tables": ["tables"],
    "pywt": ["pywavelets"],
    "sounddevice": ["sounddevice"],
    "pyaudio": ["pyaudio"],
    "speech_recognition": ["speechrecognition"],
    "whisper": ["openai-whisper"],
    "tensorflow_hub": ["tensorflow-hub"],
    "tensorflow_datasets": ["tensorflow-datasets"],
    "tensorflow_probability": ["tensorflow-probability"],
    "tf_keras": ["tf-keras"],
    "torch": ["torch"],
    "pytorch_lightning": ["pytorch-lightning"],
    "lightning": ["lightning"],
    "sentence_transformers": ["sentence-transformers"],
    "huggingface_hub": ["huggingface-hub"],
    "llama_index": ["llama-index"],
    "langchain_openai": ["langchain-openai"],
    "langchain_community": ["langchain-community"],
    "langchain_core": ["langchain-core"],
    "google.generativeai": ["google-generativeai"],
    "genai": ["google-genai"],
    "faiss": ["faiss-cpu", "faiss-gpu"],
    "cupy": ["cupy-cuda12x", "cupy-cuda11x", "cupy"],
    "jaxlib": ["jaxlib"],
    "mpl_toolkits": ["matplotlib"],
    "pylab": ["matplotlib"],
    "umap": ["umap-learn"],
    "imblearn": ["imbalanced-learn"],
    "category_encoders": ["category-encoders"],
    "ydata_profiling": ["ydata-profiling"],
    "pandas_profiling": ["pandas-profiling"],
    "great_expectations": ["great-expectations"],
    "skl2onnx": ["skl2onnx"],
    "onnxruntime": ["onnxruntime", "onnxruntime-gpu"],
    "pyspark": ["pyspark"],
    "mpi4py": ["mpi4py"],
    "lxml": ["lxml"],
    "dns": ["dnspython"],
    "ruamel": ["ruamel-yaml"],
    "toml": ["toml"],
    "tomli": ["tomli"],
    "jinja2": ["jinja2"],
    "markupsafe": ["markupsafe"],
    "markdown": ["markdown"],
    "markdown_it": ["markdown-it-py"],
    "mdurl": ["mdurl"],
    "pkg_resources": ["setuptools"],
    "setuptools_scm": ["setuptools-scm"],
    "_cffi_backend": ["cffi"],
    "typing_extensions": ["typing-extensions"],
    "google": ["protobuf", "google-api-core"],
    "azure": ["azure-core"],
    "websocket": ["websocket-client"],
    "websockets": ["websockets"],
    "socks": ["pysocks"],
    "sockshandler": ["pysocks"],
    "certifi": ["certifi"],
    "charset_normalizer": ["charset-normalizer"],
    "kafka": ["kafka-python"],
    "confluent_kafka": ["confluent-kafka"],
    "paho": ["paho-mqtt"],
    "pika": ["pika"],
    "zope": ["zope-interface"],
    "OpenGL": ["pyopengl"],
    "glfw": ["glfw"],
    "pygame": ["pygame"],
    "pyglet": ["pyglet"],
    "vtkmodules": ["vtk"],
    "open3d": ["open3d"],
    "mediapipe": ["mediapipe"],
    "face_recognition": ["face-recognition"],
    "pytesseract": ["pytesseract"],
    "tesserocr": ["tesserocr"],
    "easyocr": ["easyocr"],
    "moviepy": ["moviepy"],
    "ffmpeg": ["ffmpeg-python"],
    "av": ["av"],
    "imageio_ffmpeg": ["imageio-ffmpeg"],
    "Xlib": ["python-xlib"],
    "pyautogui": ["pyautogui"],
    "pynput": ["pynput"],
    "keyboard": ["keyboard"],
    "win10toast": ["win10toast"],
    "plyer": ["plyer"],
    "xdist": ["pytest-xdist"],
    "pytest_cov": ["pytest-cov"],
    "pytest_asyncio": ["pytest-asyncio"],
    "pytest_mock": ["pytest-mock"],
    "dash_bootstrap_components": ["dash-bootstrap-components"],
    "streamlit_option_menu": ["streamlit-option-menu"],
    "IPython": ["ipython"],
    "ipykernel": ["ipykernel"],
    "nbformat": ["nbformat"],
    "jupyter_client": ["jupyter-client"],
    "jupyter_core": ["jupyter-core"],
    "jupyter_server": ["jupyter-server"],
    "sympy": ["sympy"],
    "statsmodels": ["statsmodels"],
    "prophet": ["prophet"],
    "fbprophet": ["fbprophet"],
    "pmdarima": ["pmdarima"],
    "rapidfuzz": ["rapidfuzz"],
    "fuzzywuzzy": ["fuzzywuzzy"],
    "thefuzz": ["thefuzz"],
    "unidecode": ["unidecode"],
    "Unidecode": ["unidecode"],
    "dateparser": ["dateparser"],
    "pytz": ["pytz"],
    "tzlocal": ["tzlocal"],
    "simplejson": ["simplejson"],
    "ujson": ["ujson"],
    "orjson": ["orjson"],
    "msgpack": ["msgpack"],
    "snappy": ["python-snappy"],
    "lz4": ["lz4"],
    "zstandard": ["zstandard"],
    "brotli": ["brotli"],
    "Cython": ["cython"],
    "pybind11": ["pybind11"],
    "nvidia": ["nvidia-cuda-runtime-cu12"],
    "pynvml": ["nvidia-ml-py", "pynvml"],
    "GPUtil": ["gputil"],
    "psutil": ["psutil"],
    "dask_ml": ["dask-ml"],
    "xgboost": ["xgboost"],
    "lightgbm": ["lightgbm"],
    "catboost": ["catboost"],
    "shap": ["shap"],
    "folium": ["folium"],
    "geopy": ["geopy"],
    "pyproj": ["pyproj"],
    "shapely": ["shapely"],
    "fiona": ["fiona"],
    "rasterio": ["rasterio"],
    "ee": ["earthengine-api"],
    "tweepy": ["tweepy"],
    "discord": ["discord-py"],
    "slack_sdk": ["slack-sdk"],
    "twilio": ["twilio"],
    "stripe": ["stripe"],
    "boto3": ["boto3"],
    "botocore": ["botocore"],
    "s3fs": ["s3fs"],
    "gcsfs": ["gcsfs"],
    "adlfs": ["adlfs"],
    "fsspec": ["fsspec"],
    "kaggle": ["kaggle"],
    "gdown": ["gdown"],
    "wget": ["wget"],
    "httplib2": ["httplib2"],
    "oauth2client": ["oauth2client"],
    "requests_oauthlib": ["requests-oauthlib"],
    "oauthlib": ["oauthlib"],
    "flask_cors": ["flask-cors"],
    "flask_sqlalchemy": ["flask-sqlalchemy"],
    "flask_login": ["flask-login"],
    "flask_wtf": ["flask-wtf"],
    "rest_framework": ["djangorestframework"],
    "corsheaders": ["django-cors-headers"],
    "environ": ["django-environ"],
    "decouple": ["python-decouple"],
    "uvicorn": ["uvicorn"],
    "gunicorn": ["gunicorn"],
    "email_validator": ["email-validator"],
    "validators": ["validators"],
    "mpmath": ["mpmath"],
    "gmpy2": ["gmpy2"],
    "pyomo": ["pyomo"],
    "pulp": ["pulp"],
    "cvxpy": ["cvxpy"],
    "ortools": ["ortools"],
    "casadi": ["casadi"],
    "gym": ["gym"],
    "gymnasium": ["gymnasium"],
    "stable_baselines3": ["stable-baselines3"],
    "tensorboardX": ["tensorboardx"],
    "tensorboard": ["tensorboard"],
    "wandb": ["wandb"],
    "mlflow": ["mlflow"],
    "yolov5": ["yolov5"],
    "ultralytics": ["ultralytics"],
    "detectron2": ["detectron2"],
    "segment_anything": ["segment-anything"],
    "timm": ["timm"],
    "albumentations": ["albumentations"],
    "kornia": ["kornia"],
    "einops": ["einops"],
    "flash_attn": ["flash-attn"],
    "bitsandbytes": ["bitsandbytes"],
    "llama_cpp": ["llama-cpp-python"],
    "ctransformers": ["ctransformers"],
    "spacy": ["spacy"],
    "en_core_web_sm": ["en-core-web-sm"],
    "nltk": ["nltk"],
    "gensim": ["gensim"],
    "textblob": ["textblob"],
    "wordcloud": ["wordcloud"],
    "sentencepiece": ["sentencepiece"],
    "tiktoken": ["tiktoken"],
    "docker": ["docker"],
    "kubernetes": ["kubernetes"],
    "paramiko": ["paramiko"],
    "fabric": ["fabric"],
    "invoke": ["invoke"],
    "click": ["click"],
    "typer": ["typer"],
    "rich": ["rich"],
    "tqdm": ["tqdm"],
    "colorama": ["colorama"],
    "termcolor": ["termcolor"],
    "tabulate": ["tabulate"],
    "prettytable": ["prettytable"],
    "openpyxl": ["openpyxl"],
    "xlrd": ["xlrd"],
    "xlsxwriter": ["xlsxwriter"],
    "xlwt": ["xlwt"],
    "odf": ["odfpy"],
    "pyxlsb": ["pyxlsb"],
    "tabula": ["tabula-py"],
    "camelot": ["camelot-py"],
    "pdfplumber": ["pdfplumber"],
    "docx2txt": ["docx2txt"],
    "ebooklib": ["ebooklib"],
    "qrcode": ["qrcode"],
    "barcode": ["python-barcode"],
    "pyzbar": ["pyzbar"],
    "geventwebsocket": ["gevent-websocket"],
    "zoneinfo": ["backports-zoneinfo"],
    "importlib_metadata": ["importlib-metadata"],
    "importlib_resources": ["importlib-resources"],
    "dataclasses_json": ["dataclasses-json"],
    "marshmallow": ["marshmallow"],
    "jsonschema": ["jsonschema"],
    "pydantic_settings": ["pydantic-settings"],
    "sklearn_crfsuite": ["sklearn-crfsuite"],
    "pycrfsuite": ["python-crfsuite"],
    "hdbscan": ["hdbscan"],
    "igraph": ["igraph"],
    "community": ["python-louvain"],
    "graphviz": ["graphviz"],
    "pydot": ["pydot"],
    "pygraphviz": ["pygraphviz"],
    "memcache": ["python-memcached"],
    "pylibmc": ["pylibmc"],
    "ldap3": ["ldap3"],
    "Xlsxwriter": ["xlsxwriter"],
    "pyi_splash": ["pyinstaller"],
    "PyInstaller": ["pyinstaller"],
    "nbconvert": ["nbconvert"],
    "plotly": ["plotly"],
    "dash": ["dash"],
    "bokeh": ["bokeh"],
    "altair": ["altair"],
    "seaborn": ["seaborn"],
    "pandas": ["pandas"],
    "polars": ["polars"],
    "numpy": ["numpy"],
    "scipy": ["scipy"],
}

# Purpose words added to a project's keywords, for projects whose own summary does not
# say what a beginner would type ("dataframe" for pandas). Lower case, space separated.
PURPOSE_TAGS: dict[str, str] = {
    "pandas": "dataframe table csv excel data analysis series",
    "polars": "dataframe table csv parquet data analysis",
    "pyarrow": "dataframe columnar parquet arrow table",
    "dask": "dataframe parallel distributed big data",
    "modin": "dataframe pandas parallel",
    "vaex": "dataframe big data out-of-core",
    "duckdb": "sql database dataframe analytics",
    "numpy": "array matrix numerical linear algebra",
    "scipy": "scientific optimization statistics signal linear algebra",
    "scikit-learn": "machine learning classification regression clustering",
    "xgboost": "machine learning gradient boosting",
    "lightgbm": "machine learning gradient boosting",
    "catboost": "machine learning gradient boosting",
    "statsmodels": "statistics regression time series econometrics",
    "torch": "deep learning neural network tensor gpu pytorch machine learning",
    "torchvision": "deep learning image computer vision pytorch",
    "torchaudio": "deep learning audio speech pytorch",
    "tensorflow": "deep learning neural network machine learning gpu",
    "tensorflow-cpu": "deep learning neural network machine learning",
    "keras": "deep learning neural network machine learning",
    "jax": "deep learning machine learning autodiff numerical gpu tpu",
    "flax": "deep learning neural network jax",
    "transformers": "deep learning nlp language model llm pretrained",
    "diffusers": "deep learning image generation diffusion",
    "sentence-transformers": "embedding nlp deep learning",
    "fastai": "deep learning",
    "pytorch-lightning": "deep learning training pytorch",
    "lightning": "deep learning training pytorch",
    "timm": "deep learning image computer vision",
    "onnxruntime": "deep learning inference",
    "pillow": "image picture photo graphics resize image processing",
    "opencv-python": "image computer vision video camera image processing",
    "opencv-python-headless": "image computer vision video",
    "opencv-contrib-python": "image computer vision video",
    "scikit-image": "image processing computer vision",
    "imageio": "image video read write",
    "matplotlib": "plot plotting chart graph visualization figure",
    "seaborn": "plot plotting chart statistics visualization",
    "plotly": "plot plotting chart interactive visualization",
    "bokeh": "plot plotting chart interactive visualization",
    "altair": "plot plotting chart visualization",
    "plotnine": "plot plotting chart grammar of graphics",
    "requests": "http web download api client",
    "httpx": "http web client async",
    "aiohttp": "http web client server async",
    "beautifulsoup4": "html scraping web parser",
    "scrapy": "scraping crawler web",
    "selenium": "browser automation web scraping",
    "playwright": "browser automation web testing",
    "lxml": "xml html parser",
    "flask": "web framework server",
    "django": "web framework server",
    "fastapi": "web framework api server",
    "streamlit": "web app dashboard",
    "gradio": "web app demo machine learning",
    "dash": "web app dashboard plot",
    "sqlalchemy": "sql database orm",
    "openpyxl": "excel xlsx spreadsheet",
    "xlsxwriter": "excel xlsx spreadsheet",
    "xlrd": "excel xls spreadsheet",
    "pyyaml": "yaml config",
    "tqdm": "progress bar",
    "nltk": "nlp text language",
    "spacy": "nlp text language",
    "gensim": "nlp topic model word2vec",
    "networkx": "graph network",
    "sympy": "symbolic math algebra",
    "librosa": "audio music signal",
    "pygame": "game graphics",
    "openai": "llm gpt ai api",
    "anthropic": "llm claude ai api",
    "langchain": "llm ai agents",
    "pytest": "testing test",
    "python-dateutil": "date time parsing",
    "geopandas": "geospatial map gis dataframe",
    "folium": "map geospatial",
    "shapely": "geometry geospatial",
    "xarray": "array netcdf labeled",
    "h5py": "hdf5 file array",
    "jupyterlab": "notebook ide",
    "notebook": "notebook",
    "ipywidgets": "notebook widgets interactive",
    "optuna": "hyperparameter optimization",
    "mlflow": "machine learning tracking",
    "wandb": "machine learning tracking",
    "ultralytics": "object detection yolo computer vision",
    "mediapipe": "computer vision pose face",
    "pytesseract": "ocr text image",
    "easyocr": "ocr text image",
    "pymupdf": "pdf",
    "pypdf": "pdf",
    "reportlab": "pdf",
}

# ``Topic ::`` leaves too generic to say what a project is for.
GENERIC_TOPICS = {
    "python modules",
    "utilities",
    "software development",
    "libraries",
    "internet",
    "system",
    "other/nonlisted topic",
    "scientific/engineering",
    "application frameworks",
}

_SPLIT = re.compile(r"[,;\s]+")
_NORMALIZE = re.compile(r"[-_.]+")


def canonical(name: str) -> str:
    return _NORMALIZE.sub("-", name).lower()


def read_seed(path: Path) -> list[str]:
    names: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


def read_stats(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = sorted(data["rows"], key=lambda row: -int(row.get("download_count", 0)))
    return [row["project"] for row in rows]


def ranked_names(names: list[str], limit: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = canonical(name)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out[:limit]


def keywords_of(info: dict[str, Any]) -> str:
    words: list[str] = []
    raw = info.get("keywords") or ""
    if isinstance(raw, list):
        raw = " ".join(str(item) for item in raw)
    for raw_word in _SPLIT.split(str(raw).lower()):
        word = raw_word.strip("\"'()[]")
        if 2 <= len(word) <= 24 and word not in words:
            words.append(word)
    topics: list[str] = []
    for classifier in info.get("classifiers") or []:
        if classifier.startswith("Topic ::"):
            leaf = classifier.rsplit("::", 1)[-1].strip().lower()
            if leaf not in topics and leaf not in GENERIC_TOPICS and len(leaf) <= 40:
                topics.append(leaf)
    merged = [*words[:MAX_KEYWORDS], *topics[:3]]
    unique: list[str] = []
    for word in merged:
        if word not in unique:
            unique.append(word)
    return " ".join(unique)


def summary_of(info: dict[str, Any]) -> str:
    text = " ".join(str(info.get("summary") or "").split())
    if len(text) > MAX_SUMMARY:
        text = text[: MAX_SUMMARY - 1].rstrip() + "…"
    return text


async def fetch_one(
    client: httpx.AsyncClient, name: str, gate: asyncio.Semaphore, deadline: float
) -> dict[str, Any] | None:
    async with gate:
        for attempt in range(3):
            if time.monotonic() > deadline:
                return None
            try:
                response = await client.get(JSON_API.format(name=name))
            except httpx.HTTPError:
                await asyncio.sleep(1.0 * (attempt + 1))
                continue
            if response.status_code == 404:
                return None
            if response.status_code in (429, 500, 502, 503, 504):
                await asyncio.sleep(2.0 * (attempt + 1))
                continue
            if response.status_code != 200:
                return None
            try:
                info = response.json()["info"]
            except (ValueError, KeyError):
                return None
            return info if isinstance(info, dict) else None
    return None


async def fetch_all(names: list[str], concurrency: int, seconds: float) -> list[Any]:
    deadline = time.monotonic() + seconds
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(20.0), limits=limits, headers=headers, follow_redirects=True
    ) as client:
        tasks = [fetch_one(client, name, gate, deadline) for name in names]
        done = 0
        results: list[Any] = []
        for chunk_start in range(0, len(tasks), 200):
            chunk = tasks[chunk_start : chunk_start + 200]
            results.extend(await asyncio.gather(*chunk))
            done += len(chunk)
            got = sum(1 for item in results if item)
            print(f"  {done}/{len(names)} fetched, {got} with metadata", file=sys.stderr)
        return results


def build_popular(names: list[str], infos: list[Any]) -> list[list[str | None]]:
    rows: list[list[str | None]] = []
    for name, info in zip(names, infos):
        if info:
            display = str(info.get("name") or name)
            version = str(info.get("version") or "") or None
            purpose = PURPOSE_TAGS.get(canonical(name), "")
            rows.append([display, summary_of(info), keywords_of(info), version, purpose])
        else:
            rows.append([name, None, "", None, PURPOSE_TAGS.get(canonical(name), "")])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, default=SEED, help="ranked names, one a line")
    parser.add_argument("--stats", type=Path, help="download-count JSON ({'rows': [...]})")
    parser.add_argument("--limit", type=int, default=4200, help="how many projects to ship")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds of fetching")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)

    source = read_stats(args.stats) if args.stats else read_seed(args.seed)
    names = ranked_names(source, args.limit)
    print(f"fetching metadata for {len(names)} projects", file=sys.stderr)
    started = time.monotonic()
    infos = asyncio.run(fetch_all(names, args.concurrency, args.deadline))
    rows = build_popular(names, infos)
    fetched = sum(1 for info in infos if info)

    args.out.mkdir(parents=True, exist_ok=True)
    popular = {
        "format": 1,
        "generated": time.strftime("%Y-%m-%d", time.gmtime()),
        "source": "download-count stats" if args.stats else "scripts/search_seed.txt",
        "fields": ["name", "summary", "keywords", "version", "purpose"],
        "projects": rows,
    }
    payload = json.dumps(popular, ensure_ascii=False, separators=(",", ":")).encode()
    (args.out / "popular.json.gz").write_bytes(gzip.compress(payload, 9, mtime=0))
    imports = {"format": 1, "imports": dict(sorted(IMPORT_NAMES.items()))}
    (args.out / "import_names.json").write_text(
        json.dumps(imports, separators=(",", ":"), sort_keys=False) + "\n", encoding="utf-8"
    )
    elapsed = time.monotonic() - started
    print(
        f"wrote {len(rows)} projects ({fetched} with metadata) in {elapsed:.0f}s", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
