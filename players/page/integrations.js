// Two ways of wiring a <video> to @api.video/player-analytics 1.x, written for this project
// from the description of api.video's plugins (analytics-semantics.md section 1.3). Each
// takes the element and a PlayerAnalytics instance and calls only the client's public
// methods: updateTime, ready, play, resume, pause, seek, end, destroy.
"use strict";

// Media events the hls.js plugin listens to: every one of them (except timeupdate) moves
// the remembered seek origin, which is why in-play seeks report a stale `from`.
var AVI_MEDIA_EVENTS = [
  "abort", "canplay", "canplaythrough", "durationchange", "emptied", "ended", "error",
  "loadeddata", "loadedmetadata", "loadstart", "pause", "play", "playing", "progress",
  "ratechange", "seeked", "seeking", "stalled", "suspend", "timeupdate", "volumechange",
  "waiting"
];

// Like api.video's hls.js plugin v1: ready on every canplay until the first play, pause
// whenever the element pauses (so pause then end at the end), the seek sent at `seeked`
// from the position of the last non-timeupdate event seen while not seeking. No unload
// handler, as in the plugin, unless `destroyOnUnload` (a variant that calls destroy()).
function aviHlsLike(video, analytics, destroyOnUnload) {
  var beforePlay = true;
  var origin;
  var target;
  AVI_MEDIA_EVENTS.forEach(function (name) {
    video.addEventListener(name, function () {
      var now = video.currentTime || 0;
      if (name === "timeupdate") {
        analytics.updateTime(now);
      } else if (name === "canplay") {
        if (beforePlay) analytics.ready();
      } else if (name === "play") {
        if (beforePlay) {
          beforePlay = false;
          analytics.play();
        } else {
          analytics.resume();
        }
      } else if (name === "pause") {
        analytics.pause();
      } else if (name === "ended") {
        analytics.end();
      } else if (name === "seeking") {
        target = now;
      } else if (name === "seeked") {
        analytics.seek(origin || 0, target || 0);
      }
      if (name !== "timeupdate" && !video.seeking) origin = now;
    });
  });
  if (destroyOnUnload) {
    window.addEventListener("beforeunload", function () { analytics.destroy(); });
  }
}

// Like api.video's video.js plugin v1: ready once when the player is set up (at 0); a seek
// only marks the player as having sought, and is sent at the next `play`, from the last
// position seen while playing (the one before it when that equals the target); no pause
// when paused at the duration (the end sends `end` alone); destroy() on beforeunload.
function aviVideojsLike(video, analytics) {
  var beforePlay = true;
  var sought = false;
  var lastPlaying = 0;
  var beforeLastPlaying = 0;
  analytics.updateTime(0);
  analytics.ready();
  video.addEventListener("timeupdate", function () {
    var now = video.currentTime;
    analytics.updateTime(now);
    if (!video.paused) {
      beforeLastPlaying = lastPlaying;
      lastPlaying = now;
    }
  });
  video.addEventListener("seeking", function () { sought = true; });
  video.addEventListener("play", function () {
    if (sought) {
      var to = video.currentTime;
      analytics.seek(lastPlaying === to ? beforeLastPlaying : lastPlaying, to);
      sought = false;
    }
    if (beforePlay) {
      beforePlay = false;
      analytics.play();
    } else {
      analytics.resume();
    }
  });
  video.addEventListener("pause", function () {
    if (video.currentTime !== video.duration) analytics.pause();
  });
  video.addEventListener("ended", function () { analytics.end(); });
  window.addEventListener("beforeunload", function () { analytics.destroy(); });
}
