/* Solve the survey form's proof-of-work challenge (surveyapp/services/proof_of_work.py):
   find n in [0, maxnumber] with SHA-256(salt + n) == challenge, then post the solution with
   the answers. SHA-256 is computed here in plain JavaScript rather than with crypto.subtle,
   which browsers offer only over HTTPS. Work is done in slices so the page stays responsive;
   a submit pressed before the check is done waits for it, then goes ahead. */
(function () {
  "use strict";
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];
  var W = new Int32Array(64);
  var M = new Int32Array(64);  // the padded message as big-endian words (up to 4 blocks)

  /* SHA-256 of an ASCII string of at most 247 characters (salt and digits), as hex. */
  function sha256(text) {
    var length = text.length, i, j, words = ((length + 9 + 63) >> 6) << 4;
    M.fill(0, 0, words);
    for (i = 0; i < length; i++) { M[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - 8 * (i & 3)); }
    M[length >> 2] |= 0x80 << (24 - 8 * (length & 3));
    M[words - 1] = length * 8;
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for (j = 0; j < words; j += 16) {
      for (i = 0; i < 16; i++) { W[i] = M[j + i]; }
      for (i = 16; i < 64; i++) {
        var x = W[i - 15], y = W[i - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (i = 0; i < 64; i++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
    }
    var hex = "";
    for (i = 0; i < 8; i++) { hex += ("00000000" + (h[i] >>> 0).toString(16)).slice(-8); }
    return hex;
  }

  function start() {
    var field = document.getElementById("proof-of-work");
    if (!field) { return; }
    var status = document.getElementById("proof-of-work-status");
    var form = field.form;
    var task = JSON.parse(field.getAttribute("data-challenge"));
    var waiting = null;  // the submit button pressed before the check was done
    var next = 0;
    if (status) { status.textContent = status.getAttribute("data-working"); }

    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (field.value || (button && button.hasAttribute("formnovalidate"))) { return; }
      event.preventDefault();  // the language button goes at once; the answers wait
      waiting = button || true;
    });

    function solved(number) {
      field.value = window.btoa(JSON.stringify({
        algorithm: task.algorithm, challenge: task.challenge, number: number,
        salt: task.salt, signature: task.signature
      }));
      if (status) { status.textContent = status.getAttribute("data-done"); }
      if (waiting) {
        if (form.requestSubmit && waiting !== true) { form.requestSubmit(waiting); }
        else { form.submit(); }
      }
    }

    function work() {
      var stop = Math.min(next + 2000, task.maxnumber + 1);
      for (; next < stop; next++) {
        if (sha256(task.salt + next) === task.challenge) { solved(next); return; }
      }
      if (next <= task.maxnumber) { window.setTimeout(work, 0); }
    }
    work();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
