"""hopsql trial runner: trains one model for one hyperparameter-search trial.

Usage: python3 hopsql_trainer.py TRIAL_DIR

TRIAL_DIR/hparams.json names the algorithm (a built-in one, or "script" with
the path of a user train.py), its hyperparameters, the task, the objective
metric, the data directory (X_/y_ train/test .npy files, features.json and,
for classification, classes.json), the features and hidden layers to leave
out, and the seed.

While it trains, the runner sends one JSON line per report,
{"step": N, "metrics": {...}} with NaN/inf written as null, on the file
descriptor named by HOPSQL_METRICS_FD, and ends early when a line "stop"
arrives on standard input. At the end it writes TRIAL_DIR/outputs.json,
{"metrics": {...}, "early_stopped": bool, "steps": N}, and exits 0 (also
when stopped early), 1 on any error (traceback on stderr, no outputs.json),
or 3 when the objective metric was never reported.
"""

import collections
import gc
import importlib.util
import json
import math
import os
import random
import sys
import threading
import traceback
import types

# Many trials run side by side, each granted HOPSQL_THREADS cores: BLAS must
# not start a thread per core, and it reads these before numpy is imported.
THREADS = max(1, int(os.environ.get("HOPSQL_THREADS") or 1))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))

import numpy as np  # noqa: E402

# scikit-learn, XGBoost and PyTorch are imported by the code that needs them:
# torch alone costs a second or more of start-up that other trials skip.

EXIT_NO_OBJECTIVE = 3


class Reporter:
    """Sends metric reports and tells the trainer when to stop."""

    def __init__(self, stream):
        self._stream = stream
        self._stop = threading.Event()
        self.steps = 0
        self.last = {}
        # Whether the trainer learnt of a stop request (and so ended early):
        # a request that arrives after training ended changes nothing.
        self.stopped = False
        threading.Thread(target=self._watch_stdin, name="hopsql-stop", daemon=True).start()

    def _watch_stdin(self):
        # Raw os.read, not sys.stdin: a daemon thread blocked inside a
        # buffered reader's lock can abort the interpreter at exit, and the
        # parent keeps our stdin open until we have exited.
        pending = b""
        while True:
            try:
                chunk = os.read(0, 4096)
            except OSError:
                return
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            if any(line.strip() == b"stop" for line in lines):
                self.log("stop requested")
                self._stop.set()

    @property
    def should_stop(self):
        if self._stop.is_set():
            self.stopped = True
        return self.stopped

    def report(self, step, **metrics):
        clean = {name: _metric_value(name, value) for name, value in metrics.items()}
        line = json.dumps({"step": int(step), "metrics": clean}, allow_nan=False)
        if self._stream is not None:
            self._stream.write(line + "\n")
        self.steps += 1
        self.last = clean
        self.log(f"step {int(step)}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in clean.items()))
        return self.should_stop

    def log(self, *args):
        print(*args, flush=True)


def _metric_value(name, value):
    """A metric as a JSON number, or None for NaN/inf (JSON has neither)."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"metric {name!r} must be a number, got {value!r}") from None
    return value if math.isfinite(value) else None


def _fmt(value):
    return "null" if value is None else f"{value:.6g}"


# ---- hyperparameters -------------------------------------------------------

def _float(value):
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _int(value):
    number = _float(value)
    if not number.is_integer():
        raise ValueError(f"expected an integer, got {value!r}")
    return int(number)


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "1.0", "yes"):
        return True
    if text in ("false", "0", "0.0", "no"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _choice(*options):
    def convert(value):
        text = str(value).strip().lower()
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {value!r}")
        return text
    return convert


def _max_features(value):
    text = str(value).strip().lower()
    if text in ("sqrt", "log2"):
        return text
    fraction = _float(value)
    if not 0 < fraction <= 1:
        raise ValueError(f"expected sqrt, log2 or a fraction in (0, 1], got {value!r}")
    return fraction


# name -> (converter, default) for each built-in algorithm.
PARAMS = {
    "logistic_regression": {
        "C": (_float, 1.0), "max_iter": (_int, 100),
        "penalty": (_choice("l2", "none"), "l2"),
        "class_weight": (_choice("none", "balanced"), "none"),
    },
    "linear_regression": {"alpha": (_float, 0.0), "fit_intercept": (_bool, True)},
    "random_forest": {
        "n_estimators": (_int, 100), "max_depth": (_int, 0),
        "min_samples_leaf": (_int, 1), "max_features": (_max_features, "sqrt"),
    },
    "xgboost": {
        "n_estimators": (_int, 100), "max_depth": (_int, 6), "learning_rate": (_float, 0.3),
        "subsample": (_float, 1.0), "colsample_bytree": (_float, 1.0),
        "min_child_weight": (_float, 1.0), "reg_lambda": (_float, 1.0), "reg_alpha": (_float, 0.0),
    },
    "mlp": {
        "hidden_units": (_int, 64), "layers": (_int, 2), "learning_rate": (_float, 0.001),
        "epochs": (_int, 20), "batch_size": (_int, 64), "dropout": (_float, 0.0),
        "weight_decay": (_float, 0.0), "activation": (_choice("relu", "tanh"), "relu"),
    },
}
TASKS = {"logistic_regression": ("classification",), "linear_regression": ("regression",)}


def resolve_params(algorithm, given):
    spec = PARAMS[algorithm]
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {', '.join(unknown)} for {algorithm}; "
                         f"known: {', '.join(sorted(spec))}")
    params = {name: default for name, (_, default) in spec.items()}
    for name, value in given.items():
        try:
            params[name] = spec[name][0](value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"hyperparameter {name} of {algorithm}: {err}") from None
    return params


# ---- data and metrics ------------------------------------------------------

def load_data(hp):
    root = hp["data"]

    def load(name):
        return np.load(os.path.join(root, name), allow_pickle=False)

    with open(os.path.join(root, "features.json")) as f:
        features = list(json.load(f))
    X_train, X_test = load("X_train.npy"), load("X_test.npy")
    X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    y_train, y_test = load("y_train.npy"), load("y_test.npy")
    classes = None
    if hp["task"] == "classification":
        with open(os.path.join(root, "classes.json")) as f:
            classes = list(json.load(f))
        if len(classes) < 2:
            raise ValueError(f"classification needs at least 2 classes, the data has {classes}")
        for y in (y_train, y_test):
            if len(y) and not (np.all(y == np.round(y)) and 0 <= y.min() and y.max() < len(classes)):
                raise ValueError(f"class indices must be integers in 0..{len(classes) - 1}")
        y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    elif hp["task"] != "regression":
        raise ValueError(f"unknown task {hp['task']!r}; known: classification, regression")
    drop = list(hp.get("drop_features") or [])
    unknown = [name for name in drop if name not in features]
    if unknown:
        raise ValueError(f"drop_features: unknown feature(s) {', '.join(unknown)}; "
                         f"known: {', '.join(features)}")
    keep = [i for i, name in enumerate(features) if name not in drop]
    return types.SimpleNamespace(
        X_train=X_train[:, keep], y_train=y_train, X_test=X_test[:, keep], y_test=y_test,
        features=[features[i] for i in keep], classes=classes, task=hp["task"])


def impute(data):
    """Replaces NaN (SQL NULL) with the train column mean, 0 for all-NaN columns."""
    counts = (~np.isnan(data.X_train)).sum(axis=0)
    means = np.where(counts > 0, np.nansum(data.X_train, axis=0) / np.maximum(counts, 1), 0.0)
    filled = {name: np.where(np.isnan(X), means, X)
              for name, X in (("X_train", data.X_train), ("X_test", data.X_test))}
    return types.SimpleNamespace(**{**vars(data), **filled})


def evaluate(data, prediction):
    """Test-split metrics: prediction is an (n, k) probability matrix for
    classification, the predicted values for regression."""
    prediction = np.asarray(prediction, dtype=np.float64)
    names = ("rmse", "mae", "r2") if data.task == "regression" else ("auc", "accuracy", "log_loss", "f1")
    # An empty test split or a diverged model has no meaningful scores.
    if len(data.y_test) == 0 or not np.all(np.isfinite(prediction)):
        return dict.fromkeys(names, math.nan)
    from sklearn import metrics
    y = data.y_test
    if data.task == "regression":
        return {"rmse": math.sqrt(metrics.mean_squared_error(y, prediction)),
                "mae": metrics.mean_absolute_error(y, prediction),
                "r2": metrics.r2_score(y, prediction)}
    k = prediction.shape[1]
    predicted = prediction.argmax(axis=1)
    clipped = np.clip(prediction, 1e-15, 1 - 1e-15)
    clipped /= clipped.sum(axis=1, keepdims=True)
    return {"auc": _auc(metrics, y, prediction),
            "accuracy": metrics.accuracy_score(y, predicted),
            "log_loss": metrics.log_loss(y, clipped, labels=list(range(k))),
            "f1": metrics.f1_score(y, predicted, average="binary" if k == 2 else "macro",
                                   zero_division=0)}


def _auc(metrics, y, proba):
    present = np.unique(y)
    k = proba.shape[1]
    if len(present) < 2:
        return math.nan
    if k == 2:
        return metrics.roc_auc_score(y, proba[:, 1])
    if len(present) == k:
        return metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=list(range(k)))
    # scikit-learn refuses classes missing from y; one-vs-rest macro AUC is
    # the mean of per-class AUCs, so average over the classes present.
    return float(np.mean([metrics.roc_auc_score(y == c, proba[:, c]) for c in present]))


def class_proba(model, X, k):
    """predict_proba as k columns: the model only knows the classes it saw in training."""
    proba = np.zeros((len(X), k))
    proba[:, model.classes_.astype(np.int64)] = model.predict_proba(X)
    return proba


# ---- built-in algorithms ---------------------------------------------------

def train_logistic_regression(data, p, reporter, seed):
    from sklearn.linear_model import LogisticRegression
    data = impute(data)
    model = LogisticRegression(
        C=p["C"], max_iter=p["max_iter"], penalty=None if p["penalty"] == "none" else "l2",
        class_weight=None if p["class_weight"] == "none" else "balanced",
        random_state=seed, n_jobs=THREADS)
    model.fit(data.X_train, data.y_train)
    reporter.report(1, **evaluate(data, class_proba(model, data.X_test, len(data.classes))))


def train_linear_regression(data, p, reporter, seed):
    from sklearn.linear_model import LinearRegression, Ridge
    data = impute(data)
    if p["alpha"] == 0:
        model = LinearRegression(fit_intercept=p["fit_intercept"], n_jobs=THREADS)
    else:
        model = Ridge(alpha=p["alpha"], fit_intercept=p["fit_intercept"], random_state=seed)
    model.fit(data.X_train, data.y_train)
    reporter.report(1, **evaluate(data, model.predict(data.X_test)))


def train_random_forest(data, p, reporter, seed):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    data = impute(data)
    forest = RandomForestClassifier if data.task == "classification" else RandomForestRegressor
    model = forest(n_estimators=0, max_depth=p["max_depth"] or None,
                   min_samples_leaf=p["min_samples_leaf"], max_features=p["max_features"],
                   warm_start=True, random_state=seed, n_jobs=THREADS)
    # warm_start adds trees to the fitted forest, so it grows in ten even
    # steps (fewer below ten trees) with a report after each.
    targets = sorted({math.ceil(p["n_estimators"] * i / 10) for i in range(1, 11)})
    for step, trees in enumerate(targets, 1):
        model.set_params(n_estimators=trees)
        model.fit(data.X_train, data.y_train)
        if data.task == "classification":
            prediction = class_proba(model, data.X_test, len(data.classes))
        else:
            prediction = model.predict(data.X_test)
        if reporter.report(step, **evaluate(data, prediction)):
            return


def train_xgboost(data, p, reporter, seed):
    import xgboost as xgb
    k = len(data.classes or ())
    params = {"max_depth": p["max_depth"], "eta": p["learning_rate"], "subsample": p["subsample"],
              "colsample_bytree": p["colsample_bytree"], "min_child_weight": p["min_child_weight"],
              "lambda": p["reg_lambda"], "alpha": p["reg_alpha"], "nthread": THREADS, "seed": seed}
    if data.task == "regression":
        params["objective"] = "reg:squarederror"
    elif k == 2:
        params["objective"] = "binary:logistic"
    else:
        params.update(objective="multi:softprob", num_class=k)
    # XGBoost handles NaN itself, so the data is not imputed.
    dtrain = xgb.DMatrix(data.X_train, label=data.y_train, missing=np.nan, nthread=THREADS)
    dtest = xgb.DMatrix(data.X_test, missing=np.nan, nthread=THREADS)

    class ReportEachRound(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            prediction = model.predict(dtest, iteration_range=(0, epoch + 1))
            if data.task == "classification":
                prediction = prediction.reshape(len(data.X_test), -1)
                if k == 2:
                    prediction = np.column_stack([1 - prediction[:, 0], prediction[:, 0]])
            return reporter.report(epoch + 1, **evaluate(data, prediction))

    def fit(tree_method):
        reporter.log(f"xgboost: tree_method {tree_method}")
        xgb.train({**params, "tree_method": tree_method}, dtrain, num_boost_round=p["n_estimators"],
                  callbacks=[ReportEachRound()], verbose_eval=False)

    if not os.environ.get("CUDA_VISIBLE_DEVICES"):
        return fit("hist")
    try:
        fit("gpu_hist")
    except xgb.core.XGBoostError as err:
        # Only a refusal before the first round means "no GPU support here".
        if reporter.steps:
            raise
        reporter.log(f"xgboost: gpu_hist unavailable ({str(err).splitlines()[0]}), using hist")
        fit("hist")


def train_mlp(data, p, reporter, seed):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    names = [f"hidden{i}" for i in range(1, p["layers"] + 1)]
    unknown = [name for name in data.drop_layers if name not in names]
    if unknown:
        raise ValueError(f"drop_layers: unknown layer(s) {', '.join(unknown)}; "
                         f"this mlp has {', '.join(names) or 'no hidden layers'}")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    reporter.log(f"mlp: device {device}" + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else ""))

    data = impute(data)
    mean, std = data.X_train.mean(axis=0), data.X_train.std(axis=0)
    std[std == 0] = 1

    def as_tensor(array, dtype=torch.float32):
        return torch.as_tensor(array, dtype=dtype, device=device)

    X_train = as_tensor((data.X_train - mean) / std)
    X_test = as_tensor((data.X_test - mean) / std)
    classification = data.task == "classification"
    if classification:
        y_train, loss_fn, outputs = as_tensor(data.y_train, torch.int64), nn.CrossEntropyLoss(), len(data.classes)
    else:
        # A standardised target keeps the learning rate meaningful across scales.
        y_mean, y_std = data.y_train.mean(), data.y_train.std() or 1.0
        y_train, loss_fn, outputs = as_tensor((data.y_train - y_mean) / y_std), nn.MSELoss(), 1

    layers, width = [], X_train.shape[1]
    activation = nn.ReLU if p["activation"] == "relu" else nn.Tanh
    for name in names:
        if name in data.drop_layers:
            continue
        layers += [(name, nn.Linear(width, p["hidden_units"])), (f"{name}_act", activation())]
        if p["dropout"] > 0:
            layers.append((f"{name}_dropout", nn.Dropout(p["dropout"])))
        width = p["hidden_units"]
    layers.append(("output", nn.Linear(width, outputs)))
    model = nn.Sequential(collections.OrderedDict(layers)).to(device)
    reporter.log(f"mlp: {model}")
    optimizer = torch.optim.Adam(model.parameters(), lr=p["learning_rate"], weight_decay=p["weight_decay"])
    shuffle = torch.Generator().manual_seed(seed)

    for epoch in range(1, p["epochs"] + 1):
        model.train()
        total, seen = 0.0, 0
        order = torch.randperm(len(X_train), generator=shuffle).to(device)
        for start in range(0, len(order), p["batch_size"]):
            batch = order[start:start + p["batch_size"]]
            out = model(X_train[batch])
            loss = loss_fn(out, y_train[batch] if classification else y_train[batch].unsqueeze(1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, seen = total + loss.item() * len(batch), seen + len(batch)
            # A stop mid-epoch ends it here; the report below is the last one.
            if reporter.should_stop:
                break
        model.eval()
        with torch.no_grad():
            out = model(X_test)
            if classification:
                prediction = torch.softmax(out, dim=1).double().cpu().numpy()
            else:
                prediction = out.squeeze(1).double().cpu().numpy() * y_std + y_mean
        metrics = evaluate(data, prediction)
        if reporter.report(epoch, train_loss=total / seen if seen else math.nan, **metrics):
            return


def train_script(data, hp, reporter, seed):
    path = hp.get("script")
    if not path:
        raise ValueError('algorithm "script" needs hparams "script", the path of a train.py')
    spec = importlib.util.spec_from_file_location("hopsql_user_script", path)
    if spec is None:
        raise ValueError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    # The script may import modules that sit beside it.
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec.loader.exec_module(module)
    if not callable(getattr(module, "train", None)):
        raise ValueError(f"{path} has no train(data, params, reporter) function")
    # Seed torch only when the script uses it, to spare the import otherwise.
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    result = module.train(data, dict(hp.get("params") or {}), reporter)
    if result is not None and not isinstance(result, dict):
        raise TypeError(f"train() in {path} must return a dict of metrics or None, got {type(result).__name__}")
    return result


# ---- main --------------------------------------------------------------------

def run(trial_dir):
    with open(os.path.join(trial_dir, "hparams.json")) as f:
        hp = json.load(f)
    algorithm, seed = hp["algorithm"], int(hp.get("seed") or 0)
    random.seed(seed)
    np.random.seed(seed)
    fd = os.environ.get("HOPSQL_METRICS_FD")
    stream = os.fdopen(int(fd), "w", buffering=1) if fd else None
    reporter = Reporter(stream)

    data = load_data(hp)
    # Hidden layers to leave out: the mlp's ablation, which scripts may honour too.
    data.drop_layers = list(hp.get("drop_layers") or [])
    reporter.log(f"hopsql trial {hp.get('trial')}: {algorithm}, {data.task}, objective {hp['metric']}, "
                 f"{len(data.X_train)} train / {len(data.X_test)} test rows, "
                 f"{len(data.features)} features, {THREADS} thread(s)")
    if algorithm == "script":
        result = train_script(data, hp, reporter, seed)
    else:
        if algorithm not in PARAMS:
            raise ValueError(f"unknown algorithm {algorithm!r}; known: {', '.join(sorted(PARAMS))}, script")
        if data.task not in TASKS.get(algorithm, (data.task,)):
            raise ValueError(f"{algorithm} does not support {data.task}")
        if data.drop_layers and algorithm != "mlp":
            raise ValueError(f"drop_layers applies to mlp only, not {algorithm}")
        params = resolve_params(algorithm, hp.get("params") or {})
        reporter.log(f"hyperparameters: {json.dumps(params)}")
        result = globals()[f"train_{algorithm}"](data, params, reporter, seed)
    if stream is not None:
        stream.flush()

    final = dict(reporter.last)
    final.update({name: _metric_value(name, value) for name, value in (result or {}).items()})
    if hp["metric"] not in final:
        print(f"hopsql: the objective metric {hp['metric']!r} was never reported "
              f"(reported: {', '.join(sorted(final)) or 'nothing'})", file=sys.stderr, flush=True)
        return EXIT_NO_OBJECTIVE
    outputs = {"metrics": final, "early_stopped": reporter.stopped, "steps": reporter.steps}
    tmp = os.path.join(trial_dir, "outputs.json.tmp")
    with open(tmp, "w") as f:
        json.dump(outputs, f, allow_nan=False)
    os.replace(tmp, os.path.join(trial_dir, "outputs.json"))
    reporter.log(f"done: {reporter.steps} report(s), early_stopped={reporter.stopped}")
    return 0


# ---- fork server -------------------------------------------------------------
#
# Importing NumPy, scikit-learn and XGBoost takes about a second, more than
# many trials train. With --serve FD the runtime imports them once and then
# forks one child per trial request arriving on the SOCK_SEQPACKET socket FD:
# each request is a JSON object {"id", "dir", "env"} with three descriptors
# (the trial's stdin, its metrics pipe, its log); the reply {"id", "pid"}
# follows the fork and {"exit": pid, "code": n} the child's end (a signal
# number s is reported as code -s). The server exits when the socket closes.

def _preload():
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import xgboost  # noqa: F401


def _child(request, fds):
    """Runs one trial in a forked child; never returns."""
    global THREADS
    code = 1
    try:
        stdin_r, metrics_w, log = fds
        os.setpgid(0, 0)
        os.dup2(stdin_r, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.dup2(metrics_w, 3)
        os.closerange(4, 1 << 16)
        os.environ.update(request.get("env") or {})
        os.environ["HOPSQL_METRICS_FD"] = "3"
        THREADS = max(1, int(os.environ.get("HOPSQL_THREADS") or 1))
        # The parent's buffered streams point at the old descriptors.
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        os.chdir(request["dir"])
        code = main(["hopsql_trainer.py", request["dir"]])
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            # Never back into the server's loop, nor its exit handlers.
            os._exit(code)


def serve(fd):
    import socket
    sock = socket.socket(fileno=fd)
    _preload()
    # Everything imported so far moves out of the collector's sight:
    # otherwise a child's first collection walks, and so copies, every page
    # the server's objects live on (copy-on-write made expensive).
    gc.collect()
    gc.freeze()
    lock = threading.Lock()

    def send(message):
        with lock:
            sock.send(json.dumps(message).encode())

    # The reaper blocks in os.wait while there are children and on the
    # condition while there are none, so an exit is reported at once.
    children = threading.Condition()
    running = [0]

    def reap():
        while True:
            with children:
                while running[0] == 0:
                    children.wait()
            try:
                pid, status = os.wait()
            except ChildProcessError:
                continue
            with children:
                running[0] -= 1
            send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})

    threading.Thread(target=reap, name="hopsql-reaper", daemon=True).start()
    send({"ready": True})
    while True:
        data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 3)
        if not data:
            return 0
        request = {}
        try:
            request = json.loads(data)
            if len(fds) != 3:
                raise ValueError(f"expected 3 descriptors, got {len(fds)}")
            pid = os.fork()  # EAGAIN/ENOMEM fail this request, not the server
        except (OSError, ValueError) as e:
            for f in fds:
                os.close(f)
            send({"id": request.get("id") if isinstance(request, dict) else None, "error": str(e)})
            continue
        if pid == 0:
            _child(request, fds)
        with children:
            running[0] += 1
            children.notify()
        # Also here: a kill sent right after the reply must reach the child
        # even if it has not run yet.
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        for f in fds:
            os.close(f)
        send({"id": request["id"], "pid": pid})


def main(argv):
    if len(argv) == 3 and argv[1] == "--serve":
        return serve(int(argv[2]))
    if len(argv) != 2:
        print("usage: hopsql_trainer.py TRIAL_DIR | --serve FD", file=sys.stderr)
        return 2
    try:
        return run(argv[1])
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
