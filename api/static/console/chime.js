/*
 * A short two-note chime through WebAudio for handoff requests (no audio file, no request).
 * Browsers only allow sound after a user gesture, so the context is created on the first click or key.
 */

const MUTE_KEY = "helpline:console:muted";
let context = null;

function unlock() {
  if (!context) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    context = new Context();
  }
  if (context.state === "suspended") context.resume().catch(() => {});
}

export function installChime() {
  window.addEventListener("pointerdown", unlock, { capture: true });
  window.addEventListener("keydown", unlock, { capture: true });
}

export function isMuted() {
  try {
    return localStorage.getItem(MUTE_KEY) === "true";
  } catch (_) {
    return false;
  }
}

export function setMuted(muted) {
  try {
    localStorage.setItem(MUTE_KEY, String(muted));
  } catch (_) {
    /* the setting then lasts for this page only */
  }
}

/** Play the chime unless muted or not yet allowed; returns whether it played. */
export function chime() {
  if (isMuted() || !context || context.state !== "running") return false;
  const start = context.currentTime;
  for (const [offset, frequency] of [[0, 880], [0.14, 1318.5]]) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.18, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.32);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.35);
  }
  return true;
}
