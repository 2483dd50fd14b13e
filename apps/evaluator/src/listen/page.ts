/**
 * The listening-test page (served by `vmr listen serve`): self-contained HTML with inline CSS and script,
 * media from the same server. The rater id comes from `?rater=` or the form (remembered in
 * localStorage), the token from `?token=` (sent as a bearer header and on media URLs). Each candidate
 * must be played before a choice can be submitted; the page always asks the server for the rater's next
 * unjudged item, so a reload resumes where the rater stopped.
 */
export function listenPageHtml(o: { truth: boolean }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Listening test — which soundtrack fits?</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:1100px}
.cands{display:flex;gap:1.2rem;flex-wrap:wrap;margin:1rem 0}
.cand{border:2px solid #ccc;border-radius:8px;padding:.6rem}
.cand.played{border-color:#7a7}
.cand h3{margin:.2rem 0 .5rem}
#progress{color:#555}
#msg{color:#a33;min-height:1.2em}
button{font-size:1rem;padding:.3rem .9rem}
</style></head><body>
<h1>Which soundtrack fits the video better?</h1>
<p>Each item shows the same video with ${o.truth ? 'two or three' : 'two'} different soundtracks in random order. Play every one, then pick the soundtrack that fits the video best (and, if you like, rate how well it fits, 1–5). Your answers are saved as you go; you can close the page and come back.</p>
<form id="who" hidden><label>Your rater id: <input id="rater" name="rater" pattern="[A-Za-z0-9_-]{1,64}" required></label> <button id="start" type="submit">Start</button></form>
<div id="test" hidden>
<p id="progress"></p>
<div class="cands" id="cands"></div>
<p><label>How well does your choice fit? <select id="rating"><option value="">(optional)</option><option>1</option><option>2</option><option>3</option><option>4</option><option>5</option></select></label></p>
<p><button id="submit" disabled>Submit</button> <span id="hint">Play every soundtrack first.</span></p>
</div>
<p id="done" hidden>All items judged — thank you.</p>
<p id="msg"></p>
<script>
(function () {
  var q = new URLSearchParams(location.search);
  var token = q.get('token') || '';
  var rater = q.get('rater') || localStorage.getItem('vmr-listen-rater') || '';
  var current = null, played = {};
  var $ = function (id) { return document.getElementById(id); };
  function api(path, opts) {
    opts = opts || {};
    opts.headers = Object.assign({ 'Content-Type': 'application/json' }, token ? { Authorization: 'Bearer ' + token } : {});
    return fetch(path, opts).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || ('HTTP ' + r.status)); return b; });
    });
  }
  function show(state) {
    $('msg').textContent = '';
    current = state.next; played = {};
    if (!current) { $('test').hidden = true; $('done').hidden = false; $('done').dataset.total = state.total; return; }
    $('test').hidden = false; $('done').hidden = true;
    $('progress').textContent = 'Item ' + current.position + ' of ' + state.total + ' (rater ' + state.rater + ')';
    $('progress').dataset.item = current.index;
    var box = $('cands'); box.innerHTML = '';
    current.candidates.forEach(function (c) {
      var d = document.createElement('div'); d.className = 'cand'; d.dataset.slot = c.slot;
      var src = c.src + (token ? '&token=' + encodeURIComponent(token) : '');
      d.innerHTML = '<h3>Soundtrack ' + c.label + '</h3><video controls preload="metadata" width="360"></video>' +
        '<p><button type="button" class="play">Play ' + c.label + '</button> <label><input type="radio" name="choice" value="' + c.slot + '" disabled> fits best</label></p>';
      var v = d.querySelector('video'); v.src = src;
      v.addEventListener('playing', function () { played[c.slot] = true; d.classList.add('played'); d.querySelector('input').disabled = false; update(); });
      d.querySelector('.play').addEventListener('click', function () {
        document.querySelectorAll('video').forEach(function (o) { if (o !== v) o.pause(); });
        v.currentTime = 0; v.play().catch(function (e) { $('msg').textContent = 'cannot play: ' + e.message; });
      });
      box.appendChild(d);
    });
    $('rating').value = '';
    update();
  }
  function update() {
    var all = current && current.candidates.every(function (c) { return played[c.slot]; });
    var chosen = document.querySelector('input[name=choice]:checked');
    $('submit').disabled = !(all && chosen);
    $('hint').textContent = all ? (chosen ? '' : 'Pick one.') : 'Play every soundtrack first.';
  }
  document.addEventListener('change', update);
  $('submit').addEventListener('click', function () {
    var chosen = document.querySelector('input[name=choice]:checked');
    if (!chosen || !current) return;
    $('submit').disabled = true;
    document.querySelectorAll('video').forEach(function (o) { o.pause(); });
    var body = { rater: rater, item: current.index, choice: Number(chosen.value) };
    if ($('rating').value) body.rating = Number($('rating').value);
    api('api/judgments', { method: 'POST', body: JSON.stringify(body) }).then(show).catch(function (e) { $('msg').textContent = e.message; update(); });
  });
  function start() {
    localStorage.setItem('vmr-listen-rater', rater);
    $('who').hidden = true;
    api('api/state?rater=' + encodeURIComponent(rater)).then(show).catch(function (e) { $('msg').textContent = e.message; });
  }
  $('who').addEventListener('submit', function (e) { e.preventDefault(); rater = $('rater').value.trim(); start(); });
  if (rater) start(); else $('who').hidden = false;
})();
</script>
</body></html>
`;
}
