// The page's own record of what played: currentTime, paused, seeking and playbackRate every
// ~50 ms and at every media event, posted to the harness (not the collector) once a second
// and with navigator.sendBeacon when the page goes away.
"use strict";

function aviRecordTruth(video, opts) {
  var samples = [];
  var sent = 0;
  var done = false;
  function sample(what) {
    samples.push([Date.now(), video.currentTime, video.paused ? 1 : 0, video.seeking ? 1 : 0,
      video.playbackRate, what]);
  }
  function body(final) {
    var out = JSON.stringify({
      load: opts.load, viewer: opts.viewer, video_id: opts.videoId, session_id: opts.sessionId(), final: final,
      duration: video.duration, samples: samples.slice(sent)
    });
    sent = samples.length;
    return out;
  }
  AVI_MEDIA_EVENTS.forEach(function (name) {
    video.addEventListener(name, function () { if (name !== "progress") sample(name); });
  });
  var ticker = setInterval(function () { sample(""); }, 50);
  var poster = setInterval(function () {
    if (samples.length > sent) {
      fetch(opts.url, { method: "POST", body: body(false), keepalive: true });
    }
  }, 1000);
  function leave(what) {
    if (done) return;
    done = true;
    clearInterval(ticker);
    clearInterval(poster);
    sample(what);
    navigator.sendBeacon(opts.url, body(true));
  }
  // pagehide fires on close and reload, after beforeunload (where the integrations send
  // their last ping): the sample taken here is the last position the viewer saw.
  window.addEventListener("pagehide", function () { leave("pagehide"); });
  return { sample: sample, leave: leave };
}
