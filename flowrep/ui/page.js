() => {
  // Runs once when the page loads. The browser's camera can open and still deliver nothing (a stalled
  // driver, a virtual camera with no source); Gradio then sends no frames at all, so only the page itself
  // can notice: a note under the Webcam tab's camera (#cam_watchdog) says so.
  let lastTime = -1, lastChange = Date.now();
  setInterval(() => {
    const video = document.querySelector('#cam video');
    const note = document.querySelector('#cam_watchdog');
    if (!note) return;
    const live = video && video.srcObject && video.srcObject.active;
    if (!live) { note.textContent = ''; lastChange = Date.now(); return; }
    if (video.currentTime !== lastTime && video.videoWidth > 0) {
      lastTime = video.currentTime;
      lastChange = Date.now();
    }
    const stalled = (Date.now() - lastChange) / 1000;
    note.textContent = stalled > 3 ? `The camera has sent no picture for ${stalled.toFixed(0)} s: `
      + 'check that it is connected and not in use by another app.' : '';
  }, 1000);
  // A clip the browser cannot preview (cut off, text, a codec it lacks) makes Gradio's upload box raise a
  // "Video not playable" toast of its own, beside the page's line saying what was counted or why not:
  // one message per failure, in the page's words, so that toast is hidden.
  new MutationObserver(() => {
    // Gradio groups the toasts of one kind in one box, a message item each.
    for (const box of document.querySelectorAll('[data-testid="toast-body"]')) {
      const items = [...box.querySelectorAll('.toast-message-item')];
      for (const item of items) {
        if (item.textContent.includes('Video not playable')) item.style.display = 'none';
      }
      const shown = items.some(item => item.style.display !== 'none');
      box.style.display = items.length && !shown ? 'none' : '';
    }
  }).observe(document.body, {childList: true, subtree: true});
}
