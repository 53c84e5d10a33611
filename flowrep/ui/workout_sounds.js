(cues, muted) => {
  // The Workout and Webcam tabs' sounds, made in the browser (WebAudio): a short blip per rep, a rising
  // chord when a target is reached or the time is up, two beeps when work starts. A hidden box (#w_sound,
  // #live_sound) holds the last few numbered cues ("7:rep 8:target"), so a change event the page missed is
  // made up by the next one; only the newest cue is played. A first word without a colon names the box's
  // own numbering ("webcam 3:rep"; none: the workout's). Every cue is also kept in window.flowrepSounds.
  if (!cues) return;
  const words = cues.split(' ');
  const source = words[0].includes(':') ? 'workout' : words.shift();
  const last = window.flowrepLastCue = window.flowrepLastCue || {};
  const seen = last[source] || 0;
  const fresh = words.map(c => c.split(':')).filter(([n]) => Number(n) > seen);
  if (!fresh.length) return;
  last[source] = Number(fresh[fresh.length - 1][0]);
  const log = window.flowrepSounds = window.flowrepSounds || [];
  fresh.forEach(([, k]) => log.push(muted ? k + ' (muted)' : k));
  const kind = fresh[fresh.length - 1][1];
  const Context = window.AudioContext || window.webkitAudioContext;
  if (muted || !Context) return;
  const audio = window.flowrepAudio = window.flowrepAudio || new Context();
  if (audio.state === 'suspended') audio.resume();
  const tone = (frequency, start, length, level) => {
    const t = audio.currentTime + start, osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = 'sine'; osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(level, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(t); osc.stop(t + length + 0.05);
  };
  if (kind === 'rep') tone(880, 0, 0.09, 0.25);
  else if (kind === 'go') { tone(660, 0, 0.12, 0.2); tone(990, 0.16, 0.2, 0.2); }
  else [523.25, 659.25, 783.99, 1046.5].forEach((f, i) => tone(f, i * 0.09, 0.7, 0.14));
}
