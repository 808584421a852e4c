// Filmstrip: a slider over a run's snapshots with every frame already in the page, so a slider step
// swaps pictures here in the browser (no server round trip). The chosen step is reported to Python
// as the state value "step" once the slider settles (for the loss chart marker and Compare).
//
// data: {sig, steps: [int], index, frames: [[dataURI | null, ...] per picture], captions: [str],
//        px: [int], label, help}
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".gs-fs");
  if (!root) {
    root = document.createElement("div");
    root.className = "gs-fs";
    root.innerHTML = `
      <div class="gs-fs-head"><label class="gs-fs-label"></label><span class="gs-fs-value"></span></div>
      <input class="gs-fs-range" type="range" min="0" step="1">
      <div class="gs-fs-ticks"><span class="gs-fs-min"></span><span class="gs-fs-max"></span></div>
      <div class="gs-fs-pics"></div>`;
    parentElement.appendChild(root);
    root.__state = { sig: null, timer: null };
  }
  const st = root.__state;
  const range = root.querySelector(".gs-fs-range");
  const value = root.querySelector(".gs-fs-value");
  const fmt = (n) => Number(n).toLocaleString("en-US");

  if (st.sig !== data.sig) {
    // New frames (another run, latent or set of snapshots): keep the step the person is on if it is
    // still there, else take the one Python asks for.
    const keep = st.sig !== null ? data.steps.indexOf(st.steps[Number(range.value)]) : -1;
    st.sig = data.sig;
    st.steps = data.steps;
    st.frames = data.frames;
    st.captions = data.captions;
    root.querySelector(".gs-fs-label").textContent = data.label;
    range.setAttribute("aria-label", data.label);
    if (data.help) range.title = data.help;
    range.max = String(Math.max(0, data.steps.length - 1));
    root.querySelector(".gs-fs-min").textContent = fmt(data.steps[0]);
    root.querySelector(".gs-fs-max").textContent = fmt(data.steps[data.steps.length - 1]);
    const pics = root.querySelector(".gs-fs-pics");
    pics.innerHTML = "";
    st.imgs = data.frames.map((_, k) => {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      img.className = "gs-fs-img gs-fs-img-" + k;
      img.style.width = data.px[k] + "px";
      img.alt = data.captions[k];
      const cap = document.createElement("figcaption");
      fig.append(img, cap);
      pics.appendChild(fig);
      return [img, cap];
    });
    range.value = String(keep >= 0 ? keep : data.index);
  }

  const show = () => {
    const i = Number(range.value);
    const step = st.steps[i];
    value.textContent = fmt(step);
    range.setAttribute("aria-valuetext", "step " + fmt(step));
    st.imgs.forEach(([img, cap], k) => {
      const src = st.frames[k][i];
      if (src) {
        if (img.getAttribute("src") !== src) img.setAttribute("src", src);
        img.style.visibility = "visible";
        cap.textContent = st.captions[k].replace("{step}", fmt(step));
      } else {
        img.style.visibility = "hidden";
        cap.textContent = "The picture of step " + fmt(step) + " is missing.";
      }
    });
  };
  const report = () => {
    clearTimeout(st.timer);
    // Report once the slider settles: a held arrow key or a drag is many steps, one rerun.
    st.timer = setTimeout(() => setStateValue("step", st.steps[Number(range.value)]), 150);
  };
  range.oninput = show;
  range.onchange = report;
  show();
  return () => clearTimeout(st.timer);
}
