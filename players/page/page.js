// One player page: the query string says which integration, which video, where to ping.
"use strict";

(function () {
  var q = new URLSearchParams(location.search);
  var video = document.getElementById("v");
  var load = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
    : String(Math.random()).slice(2);
  var sessionId = null;
  var analytics = new PlayerAnalytics({
    pingUrl: q.get("ping"),
    videoId: q.get("video_id"),
    videoType: "vod",
    metadata: { viewer: q.get("viewer") || "", load: load, integration: q.get("integration") },
    onSessionIdReceived: function (id) { sessionId = id; }
  });
  var truth = aviRecordTruth(video, {
    url: q.get("truth"), load: load, viewer: q.get("viewer") || "", videoId: q.get("video_id"),
    sessionId: function () { return sessionId; }
  });
  var integration = q.get("integration");
  if (integration === "videojs") {
    aviVideojsLike(video, analytics);
  } else if (integration === "hls" || integration === "hlsjs") {
    aviHlsLike(video, analytics, q.get("unload") === "1");
  } else {
    throw new Error("unknown integration " + integration);
  }
  // What the driver reads: never used by the integrations themselves.
  window.aviPage = {
    load: load, video: video, truth: truth,
    sessionId: function () { return sessionId; }
  };
  if (integration === "hlsjs") {
    // Real hls.js: fragments load as playback goes (progress at each one).
    var hls = new Hls();
    hls.loadSource(q.get("src"));
    hls.attachMedia(video);
  } else {
    video.src = q.get("src");
  }
})();
