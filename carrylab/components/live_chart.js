// One Plotly graph div that stays mounted across Streamlit reruns and is updated in place with Plotly.react.
// Loaded by carrylab/components/live_chart.py as a components-v2 module (no iframe). The data is a UTF-8 JSON
// payload {lib, config, height, figure}; `lib` is the URL of plotly.min.js from the plotly Python package, loaded
// only when the page has no window.Plotly yet (Streamlit's own chart chunk sets it).

const STATE = Symbol.for("carrylab.liveChart");
const PRELOAD_DELAY_MS = 4000; // after the preloader mounts: the first render is done by then on this machine
const PRELOAD_IDLE_TIMEOUT_MS = 4000; // then at the next idle moment, or this much later at the latest

function loadPlotly(url) {
  if (window.Plotly && typeof window.Plotly.react === "function") return Promise.resolve(window.Plotly);
  if (!window.__carrylabPlotly) {
    window.__carrylabPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () =>
        window.Plotly ? resolve(window.Plotly) : reject(new Error("plotly.js did not define window.Plotly"));
      script.onerror = () => {
        window.__carrylabPlotly = null; // let a later update try again
        reject(new Error(`could not load plotly.js from ${url}`));
      };
      document.head.appendChild(script);
    });
  }
  return window.__carrylabPlotly;
}

function text(data) {
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  return typeof data === "string" ? data : JSON.stringify(data);
}

async function draw(state, payload) {
  const Plotly = await loadPlotly(payload.lib);
  const figure = payload.figure || {};
  const layout = Object.assign({}, figure.layout || {});
  layout.height = payload.height;
  const width = state.root.clientWidth;
  if (width > 0) layout.width = width; // width="stretch": the container's width, like st.plotly_chart
  state.width = width;
  await Plotly.react(state.gd, figure.data || [], layout, payload.config || {});
  state.error.textContent = "";
  state.gd.dataset.revision = String((Number(state.gd.dataset.revision) || 0) + 1);
}

async function drain(state) {
  if (state.busy) return;
  state.busy = true;
  try {
    while (state.next) {
      const payload = state.next;
      state.next = null;
      try {
        await draw(state, payload);
      } catch (err) {
        state.body = null; // the same figure arriving again is drawn again
        state.error.textContent = `Chart not drawn: ${err && err.message ? err.message : err}`;
        console.warn("carrylab live chart:", err);
      }
    }
  } finally {
    state.busy = false;
  }
}

function setUp(root) {
  const gd = document.createElement("div");
  gd.className = "carrylab-live-chart-graph";
  const error = document.createElement("div");
  error.className = "carrylab-live-chart-error";
  error.style.cssText = "color:#b00020;font-size:0.9rem;";
  root.appendChild(gd);
  root.appendChild(error);
  const state = { root, gd, error, next: null, busy: false, width: 0, payload: null };
  // Follow the container's width (sidebar opened or closed, window resized) without a rerun.
  state.observer = new ResizeObserver(() => {
    const width = root.clientWidth;
    if (width > 0 && width !== state.width && state.payload && !state.next) {
      state.next = state.payload;
      drain(state);
    }
  });
  state.observer.observe(root);
  root[STATE] = state;
  return state;
}

export default function liveChart(component) {
  const root = component.parentElement;
  const body = text(component.data);
  const known = root[STATE];
  // While playing, the heatmap is re-sent unchanged for a few frames: nothing to parse or draw then.
  if (known && known.body === body) return cleanup(root, known);
  const payload = body ? JSON.parse(body) : null;
  if (!payload) return undefined;
  if (payload.preload) {
    // Only make sure plotly.js is there (the element is hidden by the component's CSS), after the first render:
    // the page's charts are Streamlit's until Play starts (whose chunk sets window.Plotly, which loadPlotly then
    // uses), and evaluating a second copy would hold the main thread for 1-2 s.
    if (!window.__carrylabPreload) {
      window.__carrylabPreload = true;
      const load = () => loadPlotly(payload.lib).catch((err) => console.warn("carrylab live chart:", err));
      const idle = window.requestIdleCallback || ((cb) => setTimeout(cb, 0));
      setTimeout(() => idle(load, { timeout: PRELOAD_IDLE_TIMEOUT_MS }), PRELOAD_DELAY_MS);
    }
    return undefined;
  }
  const state = known || setUp(root);
  state.body = body;
  root.dataset.chartKey = payload.key || "";
  gdHeight(state, payload.height);
  state.payload = payload;
  state.next = payload; // only the newest figure is drawn when updates arrive faster than Plotly draws
  drain(state);
  return cleanup(root, state);
}

function cleanup(root, state) {
  // Streamlit may also call a cleanup of a superseded update while the element stays: only a removed one is freed.
  return () => {
    if (root.isConnected) return;
    state.observer.disconnect();
    if (window.Plotly) window.Plotly.purge(state.gd);
    delete root[STATE];
  };
}

function gdHeight(state, height) {
  // Reserve the chart's height at once, so the page does not jump when plotly.js arrives.
  state.gd.style.minHeight = `${height}px`;
}
