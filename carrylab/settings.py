"""Every user-visible setting of the dashboard, declared once, and the URL <-> settings conversion.

Why one table: the same setting shows up in four places (a widget, the URL's query parameters, the
`TrainConfig` the model is built from, the tests) and they must agree on its name, type, default and
range. The training settings take their ranges and choices from `TrainConfig.BOUNDS` / `.CHOICES`, so
the engine stays the single authority; UI-only settings (steps per click, smoothing, probe operands,
...) are declared here.

A shared link is untrusted input: `parse_query_params` never raises. Every value is validated; a bad
value (not a number, NaN/inf, too long, unknown choice) falls back to the default, an out-of-range
number is clamped, an unknown key is ignored, and each such decision produces a plain-text note for
the page. `to_query_params` writes only the values that differ from the defaults, so links stay short.

Pure functions, no Streamlit: unit-tested in tests/test_settings.py.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from urllib.parse import urlencode, urlsplit

from rnn_core.presets import PRESETS as ALL_PRESETS
from rnn_core.tasks import OPERATORS, SYMBOLS, operand_limit
from rnn_core.train import TrainConfig

MAX_PARAM_CHARS = 100  # longer query-parameter values are rejected unread
MAX_OPERAND = 2**64 - 1  # operands are exact up to 64 bits
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
# Query parameters Streamlit itself uses; never reported as unknown.
STREAMLIT_PARAMS = frozenset({"embed", "embed_options"})

_DEFAULTS = TrainConfig()
PRESETS = ALL_PRESETS  # every declared preset, of every cell
CELL_LABELS = {"elman": "Elman (the post's)", "gru": "GRU", "lstm": "LSTM"}  # the cell selectbox's option names


@dataclass(frozen=True)
class Setting:
    """One user-visible setting. ``name`` is both the widget key and the query-parameter name.

    kind: "int" | "float" | "choice" | "bool" | "operand" (a non-negative whole number kept as exact text).
    bounds: (lo, hi) for int/float; options: the allowed values of an int shown as a select slider
    (parsed values snap to the nearest one); choices: the allowed strings of a choice.
    config_field: the `TrainConfig` field it sets, or None for display-only settings.
    url_text: how a bool is written into the URL, (true, false) (reading accepts any of 1/0, true/false, ...).
    """

    name: str
    kind: str
    default: int | float | str | bool
    label: str
    help: str = ""
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    options: tuple[int, ...] = ()
    config_field: str | None = None
    url_text: tuple[str, str] = ("true", "false")


def _config_setting(name: str, field: str, label: str, help: str) -> Setting:
    default = getattr(_DEFAULTS, field)
    if field in TrainConfig.CHOICES:
        return Setting(
            name, "choice", default, label, help, choices=tuple(TrainConfig.CHOICES[field]), config_field=field
        )
    kind = "int" if isinstance(default, int) else "float"
    return Setting(name, kind, default, label, help, bounds=TrainConfig.BOUNDS[field], config_field=field)


DEMO_SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)

CUSTOM_PRESET = "custom"  # the preset value when the configuration is no declared preset's
PRESET_CHOICES: tuple[str, ...] = (*PRESETS, CUSTOM_PRESET)

SETTINGS_LIST: tuple[Setting, ...] = (
    # -- the preset: a name for a whole configuration (rnn_core.presets.PRESETS); choosing one sets every
    # config setting, and changing a config setting afterwards turns it into "custom" ----------------------
    Setting(
        "preset",
        "choice",
        "seed_post",
        "Preset",
        "A named configuration: choosing one sets every task, model and training setting and resets the model.",
        choices=PRESET_CHOICES,
    ),
    # -- the task and the model (changing any of these except eta rebuilds the model) ------------------
    _config_setting(
        "operator",
        "op",
        "Operator",
        "What the net learns. add/sub need a carry (borrow); xor/and/or are carry-free controls; "
        "mixed draws the operator per example.",
    ),
    _config_setting("n_bits", "n_bits", "Bit width", "Bits per number = time steps per sequence."),
    _config_setting(
        "cell",
        "cell",
        "Cell",
        "The recurrent cell: Elman (one tanh layer, the post's), GRU (reset and update gates) or LSTM (input, "
        "forget and output gates and a cell state c). Changing it resets the model.",
    ),
    _config_setting("n_hidden", "n_hidden", "Hidden units", "Units of the recurrent state (per state part)."),
    _config_setting(
        "eta", "eta", "Learning rate", "Step size. Changing it applies from the next step, without resetting the model."
    ),
    _config_setting("batch_size", "batch_size", "Batch size", "Examples per training step (the post: 1)."),
    _config_setting("optimizer", "optimizer", "Optimizer", "sgd is the post's plain gradient descent."),
    _config_setting("momentum", "momentum", "Momentum", "Only used by the momentum optimizer."),
    _config_setting(
        "clip",
        "clip",
        "Gradient clipping",
        "Rescale the gradient to at most this norm; 0 = off. Helps against divergence.",
    ),
    _config_setting("loss", "loss", "Loss", "mse: the post's squared error; bce: binary cross-entropy."),
    _config_setting(
        "variant",
        "variant",
        "Cell variant",
        "elman: tanh units with biases (the post); trask: sigmoid units, no biases (Elman cell only).",
    ),
    _config_setting("seed", "seed", "Random seed", "Seeds the weights and the order of the examples."),
    _config_setting(
        "rng",
        "rng",
        "Random generator",
        "pcg64: numpy's default_rng(seed); legacy: a RandomState(seed) of this session's own, as in Trask's "
        "tutorial (never the global numpy state).",
    ),
    _config_setting(
        "dtype", "dtype", "Arithmetic", "float64, or float32 for faster training of large nets (less exact)."
    ),
    _config_setting(
        "eval_every", "eval_every", "Evaluate every (steps)", "Steps between the exhaustive evaluations (accuracy)."
    ),
    _config_setting(
        "snapshot_every",
        "snapshot_every",
        "Snapshot every (steps)",
        "Steps between saved weight snapshots for the filmstrip (doubles when the snapshot budget is full).",
    ),
    # -- training controls -----------------------------------------------------------------------------
    Setting("steps_per_click", "int", 1000, "Steps per click", "How many steps 'Train' runs.", bounds=(1, 100_000)),
    Setting(
        "stop_when_solved",
        "bool",
        False,
        "Stop when solved",
        "Stop training at the first evaluation that finds every pair right.",
    ),
    Setting(
        "demo_speed",
        "int",
        20,
        "Demo speed (steps per frame)",
        "Training steps per live frame while playing (about 6 frames a second). Lower it to slow "
        "learning down for an audience.",
        bounds=(1, 5000),
        options=DEMO_SPEEDS,
    ),
    # -- display ---------------------------------------------------------------------------------------
    Setting(
        "smoothing",
        "float",
        0.6,
        "Smoothing",
        "Weight of the moving average (as in TensorBoard); 0 = off.",
        bounds=(0.0, 0.99),
    ),
    Setting("log_y", "bool", False, "Log-scale error"),
    Setting(
        "x_axis",
        "choice",
        "step",
        "X axis",
        "Training step, or wall-clock seconds spent training (to compare runs whose steps cost differently).",
        choices=("step", "seconds"),
    ),
    Setting(
        "presentation",
        "bool",
        False,
        "Presentation mode",
        "For a projector: hides the settings, enlarges text and charts, and shows the whole story on one page.",
        url_text=("1", "0"),
    ),
    Setting("operand_a", "operand", "13", "a", "First operand (a whole number)."),
    Setting("operand_b", "operand", "33", "b", "Second operand (a whole number)."),
    Setting(
        "probe_op", "choice", "add", "Probe operator", "Which operator the mixed-task probe uses.", choices=OPERATORS
    ),
    Setting(
        "order_units",
        "bool",
        False,
        "Order units by carry correlation",
        "Sort the heatmap's rows by how strongly each unit tracks the true carry (on a fixed sample of up to "
        "1,024 examples of the evaluation set).",
    ),
)

SETTINGS: dict[str, Setting] = {s.name: s for s in SETTINGS_LIST}
DEFAULTS: dict[str, int | float | str | bool] = {s.name: s.default for s in SETTINGS_LIST}
CONFIG_SETTINGS: tuple[str, ...] = tuple(s.name for s in SETTINGS_LIST if s.config_field)
# Settings whose change rebuilds the model (everything in the config except the learning rate).
RESET_SETTINGS: tuple[str, ...] = tuple(n for n in CONFIG_SETTINGS if n != "eta")


# -- parsing one value ------------------------------------------------------------------------------------
def in_page_words(message: str) -> str:
    """A TrainConfig error in the sidebar's words: its field names (n_hidden) become the settings' labels."""
    for setting in SETTINGS_LIST:
        if setting.config_field:
            message = re.sub(rf"\b{setting.config_field}\b", setting.label.lower(), message)
    return message


def _shown(raw: str, limit: int = 24) -> str:
    """A short, quoted, printable rendering of untrusted text for a note."""
    text = "".join(ch if ch.isprintable() else "?" for ch in raw[:limit])
    return repr(text + ("..." if len(raw) > limit else ""))


def _format_number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}".replace(",", "")


def _parse_number(setting: Setting, raw: str) -> tuple[float | int | None, str | None]:
    """(value, None) or (None, reason). Accepts ASCII decimal text; ints also accept integral floats (1e3)."""
    text = raw.strip()
    if not text.isascii() or not text:
        return None, "is not a number"
    if setting.kind == "int":
        try:
            return int(text), None
        except ValueError:
            pass
    try:
        value = float(text)
    except ValueError:
        return None, "is not a number"
    if not math.isfinite(value):
        return None, "is not a finite number"
    if setting.kind == "int":
        if value != int(value):
            return None, "is not a whole number"
        return int(value), None
    return value, None


def parse_value(setting: Setting, raw: str) -> tuple[int | float | str | bool, str | None]:
    """Validate one query-parameter value: (value, None) if it is fine, else (fallback, note).

    The fallback is the default for unreadable values and the clamped value for out-of-range numbers.
    """
    name, default = setting.name, setting.default
    if not isinstance(raw, str):
        return default, f"URL parameter '{name}' is not text; using the default {default!r}."
    if len(raw) > MAX_PARAM_CHARS:
        return default, (
            f"URL parameter '{name}' is longer than {MAX_PARAM_CHARS} characters; using the default {default!r}."
        )
    if setting.kind == "choice":
        text = raw.strip().lower()
        if text in setting.choices:
            return text, None
        return default, (
            f"URL parameter '{name}' = {_shown(raw)} is not one of {', '.join(setting.choices)}; "
            f"using the default {default!r}."
        )
    if setting.kind == "bool":
        text = raw.strip().lower()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return default, f"URL parameter '{name}' = {_shown(raw)} is not true/false; using the default {default}."
    if setting.kind == "operand":
        text = raw.strip()
        if not (text.isascii() and text.isdigit()):
            return default, (
                f"URL parameter '{name}' = {_shown(raw)} is not a whole number >= 0; using the default {default}."
            )
        value = int(text)
        if value > MAX_OPERAND:
            return str(MAX_OPERAND), f"URL parameter '{name}' is above {MAX_OPERAND}; clamped to {MAX_OPERAND}."
        return str(value), None
    value, reason = _parse_number(setting, raw)
    if value is None:
        return default, f"URL parameter '{name}' = {_shown(raw)} {reason}; using the default {default}."
    lo, hi = setting.bounds
    if not lo <= value <= hi:
        clamped = type(default)(min(max(value, lo), hi))
        return clamped, (
            f"URL parameter '{name}' = {_shown(raw)} is outside {_format_number(lo)}..{_format_number(hi)}; "
            f"clamped to {_format_number(clamped)}."
        )
    if setting.options and value not in setting.options:
        nearest = min(setting.options, key=lambda o: (abs(o - value), o))
        return nearest, f"URL parameter '{name}' = {value} is not an offered speed; using {nearest}."
    return value, None


# -- whole query strings ------------------------------------------------------------------------------------
MAX_UNKNOWN_NOTES = 3  # unknown URL keys named one by one; the rest are counted


def parse_query_params(params: Mapping[str, str | Sequence[str]]) -> tuple[dict, list[str]]:
    """Settings from a URL's query parameters: (every setting's value, notes about what was changed).

    params: name -> value, or name -> list of values (the last one wins, as in Streamlit). Never raises.
    """
    settings = dict(DEFAULTS)
    notes: list[str] = []
    unknown: list[str] = []
    for key, value in params.items():
        key_text = str(key)
        if key_text in STREAMLIT_PARAMS:
            continue
        setting = SETTINGS.get(key_text)
        if setting is None:
            unknown.append(key_text)
            continue
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            if len(value) > 1:
                notes.append(f"URL parameter '{key_text}' is given {len(value)} times; using the last one.")
            value = value[-1]
        parsed, note = parse_value(setting, value)
        settings[key_text] = parsed
        if note:
            notes.append(note)
    settings, note = fit_variant(settings)
    if note:
        notes.append(note)
    for key_text in unknown[:MAX_UNKNOWN_NOTES]:  # a flood of junk keys gets one summary, not a wall of boxes
        notes.append(f"Ignored unknown URL parameter {_shown(key_text)}.")
    if len(unknown) > MAX_UNKNOWN_NOTES:
        notes.append(f"Ignored {len(unknown) - MAX_UNKNOWN_NOTES} more unknown URL parameters.")
    return settings, notes


def format_value(setting: Setting, value) -> str:
    """The canonical query-parameter text of a valid value."""
    if setting.kind == "bool":
        return setting.url_text[0] if value else setting.url_text[1]
    if setting.kind == "float":
        return repr(float(value))
    if setting.kind == "int":
        return str(int(value))
    if setting.kind == "operand":  # typed with digit separators (1_000), as the probe accepts: the digits alone
        text = str(value).strip()
        digits = text.replace("_", "")
        return digits if digits.isascii() and digits.isdigit() else text
    return str(value).strip()


def to_query_params(settings: Mapping) -> dict[str, str]:
    """Query parameters for the settings that differ from their defaults (invalid values are left out). "Stop when
    solved" is compared with the named preset's own value, which a link to the preset would otherwise restore."""
    out: dict[str, str] = {}
    preset = PRESETS.get(settings.get("preset"))
    defaults = {**DEFAULTS, "stop_when_solved": preset.stop_when_solved if preset else DEFAULTS["stop_when_solved"]}
    for name, setting in SETTINGS.items():
        if name not in settings:
            continue
        value = settings[name]
        if setting.kind in ("int", "float") and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            continue
        text = format_value(setting, value)
        parsed, note = parse_value(setting, text)
        if note is None and parsed != defaults[name]:
            out[name] = format_value(setting, parsed)
    return out


# -- settings -> engine -------------------------------------------------------------------------------------
def config_from_settings(settings: Mapping, *, validate: bool = True) -> TrainConfig:
    """The TrainConfig for the training settings (validated unless asked not to: raises ValueError with the
    engine's message)."""
    values = {SETTINGS[name].config_field: settings.get(name, DEFAULTS[name]) for name in CONFIG_SETTINGS}
    known = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in values.items() if k in known})
    return config.validate() if validate else config


def fit_variant(settings: Mapping) -> tuple[dict, str | None]:
    """(settings, note): the Trask variant is an Elman cell's, so a gated cell gets the plain variant (with a note
    saying so); anything else unchanged (note None)."""
    out = dict(settings)
    cell, variant = out.get("cell", DEFAULTS["cell"]), out.get("variant", DEFAULTS["variant"])
    if cell != "elman" and variant != "elman":
        out["variant"] = "elman"
        return out, f"The {variant} variant is an Elman cell's; the {cell.upper()} cell uses the plain one (elman)."
    return out, None


def cell_name(settings: Mapping) -> str:
    """The cell in a few words for captions: the Elman variant (elman, trask), or GRU / LSTM."""
    cell = settings.get("cell", DEFAULTS["cell"])
    return str(settings.get("variant", DEFAULTS["variant"])) if cell == "elman" else CELL_LABELS.get(cell, cell)


def changed_settings(old: Mapping, new: Mapping, names: Sequence[str]) -> list[str]:
    """Names among `names` whose value differs between two settings dicts."""
    return [n for n in names if old.get(n, DEFAULTS[n]) != new.get(n, DEFAULTS[n])]


def operand_range_text(op: str, n_bits: int) -> str:
    """'0..127' style range of the operands of `op` at `n_bits` bits."""
    return f"0..{operand_limit(op, n_bits) - 1}"


def parse_operand_text(text: str, name: str, op: str, n_bits: int) -> int:
    """The operand typed into a probe box, exact at any width; raises ValueError with a message for the page.

    text: what the user typed; name: "a" or "b"; op: one of OPERATORS (the probed operator).
    """
    symbol = SYMBOLS[op]
    limit = operand_limit(op, n_bits)
    where = f"for {op} ({symbol}) at {n_bits} bit{'s' if n_bits != 1 else ''}"
    stripped = str(text).strip().replace("_", "")
    if not stripped:
        raise ValueError(f"Operand {name} is empty: enter a whole number in {operand_range_text(op, n_bits)}.")
    if len(stripped) > MAX_PARAM_CHARS:
        raise ValueError(f"Operand {name} is too long: enter a whole number in {operand_range_text(op, n_bits)}.")
    negative = stripped.startswith("-") and stripped[1:].isascii() and stripped[1:].isdigit()
    if negative:
        raise ValueError(
            f"Operand {name} = {stripped} is negative: operands are in {operand_range_text(op, n_bits)} {where}."
        )
    if not (stripped.isascii() and stripped.isdigit()):
        raise ValueError(
            f"Operand {name} = {_shown(str(text))} is not a whole number: enter digits only, in "
            f"{operand_range_text(op, n_bits)} {where}."
        )
    value = int(stripped)
    if value >= limit:
        half = " (half range, so that the sum fits)" if op == "add" else ""
        raise ValueError(
            f"Operand {name} = {value} is out of range: operands are in {operand_range_text(op, n_bits)} {where}{half}."
        )
    return value


def probe_operator(settings: Mapping) -> str:
    """The operator the probe uses: the task's own, or the chosen one for the mixed task."""
    op = settings.get("operator", DEFAULTS["operator"])
    return settings.get("probe_op", DEFAULTS["probe_op"]) if op == "mixed" else op


def fit_operand(text: str, op: str, n_bits: int) -> str:
    """An operand that fits the width: unchanged if valid, else reduced modulo the operand limit."""
    stripped = str(text).strip()
    if not (stripped.isascii() and stripped.isdigit()):
        return stripped
    return str(int(stripped) % operand_limit(op, n_bits))


# -- presets, checkpoints and links -------------------------------------------------------------------------
def settings_from_config(config: TrainConfig) -> dict:
    """The config settings (name -> value) that reproduce `config` through `config_from_settings`."""
    return {name: getattr(config, SETTINGS[name].config_field) for name in CONFIG_SETTINGS}


def preset_settings(key: str) -> dict:
    """Every setting a declared preset sets: its config, its "Stop when solved" and its own key (KeyError for an
    unknown key)."""
    preset = PRESETS[key]
    return {**settings_from_config(preset.make_config()), "stop_when_solved": preset.stop_when_solved, "preset": key}


def matching_preset(settings: Mapping, prefer: str | None = None) -> str:
    """The preset whose configuration the settings hold: `prefer` if it matches (two presets may share a
    configuration, e.g. seed_post and long_numbers), else the first declared one that does, else "custom"."""
    try:
        config = config_from_settings(settings)
    except ValueError:
        return CUSTOM_PRESET
    candidates = ([prefer] if prefer in PRESETS else []) + list(PRESETS)
    for key in candidates:
        if PRESETS[key].make_config() == config:
            return key
    return CUSTOM_PRESET


def with_preset_base(settings: Mapping, given: Sequence[str] = ()) -> dict:
    """Settings parsed from a URL, with the URL's preset as the base: the settings a preset sets that are not `given`
    in the URL take the preset's values (so `?preset=trask` alone opens the whole Trask configuration), those given
    win. Then the preset is renamed to whichever preset the result matches ("custom" if none)."""
    out = dict(settings)
    key = out.get("preset", DEFAULTS["preset"])
    if key in PRESETS:
        base = preset_settings(key)
        out.update({name: value for name, value in base.items() if name != "preset" and name not in given})
    out["preset"] = matching_preset(out, key)
    return out


def share_url(base_url: str | None, settings: Mapping) -> str:
    """A full link that reproduces the settings: `base_url` (query and anchor dropped) + the non-default settings.

    base_url: the app's address as the browser sees it (st.context.url); None falls back to localhost."""
    base = (base_url or "http://localhost:8501/").split("#", 1)[0].split("?", 1)[0]
    if not urlsplit(base).path:  # st.context.url of the root page has no path: "http://host:8501"
        base += "/"
    query = urlencode(to_query_params(settings))
    return f"{base}?{query}" if query else base
