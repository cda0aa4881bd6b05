/* The counter reads the citizen's claim QR code with the device's camera, then
   redeems it: the code goes into the "Claim code" field and the form is sent, as
   if typed (the typed field stays for when there is no camera).

   Decoding: the browser's own BarcodeDetector where it has one that reads QR
   codes; otherwise jsQR (vendored, static/vendor/jsqr, Apache-2.0), loaded only
   when needed. A photo of the code (the file input, which opens the phone's camera
   app) works too, also where live video is not allowed (plain http).

   <div data-scanner data-jsqr="/static/vendor/jsqr/jsQR.js" data-target="f-code"> with
   [data-scan-start], [data-scan-stop], [data-scan-photo], <video>, [data-scan-status]
   (and data-msg-* texts, already translated) inside. */
(function () {
  "use strict";

  var CODE = /^[A-Z2-9]{10}$/;  // dcatalog.benefits.claims: 10 of the code alphabet

  function normalise(text) {
    return String(text || "").toUpperCase().replace(/[^A-Z0-9]/g, "");
  }

  var jsqrLoading = null;
  function loadJsQR(src) {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    if (!jsqrLoading) {
      jsqrLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { resolve(window.jsQR); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return jsqrLoading;
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0
        ? new window.BarcodeDetector({ formats: ["qr_code"] })
        : null;
    }, function () { return null; });
  }

  /* A function (image source, width, height) → Promise of the decoded text or null. */
  function makeDecoder(jsqrSrc) {
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return nativeDetector().then(function (detector) {
      if (detector) {
        return function (source) {
          return detector.detect(source).then(function (found) {
            return found.length ? found[0].rawValue : null;
          }, function () { return null; });
        };
      }
      return loadJsQR(jsqrSrc).then(function (jsQR) {
        return function (source, width, height) {
          if (!width || !height) return Promise.resolve(null);
          canvas.width = width;
          canvas.height = height;
          context.drawImage(source, 0, 0, width, height);
          var pixels = context.getImageData(0, 0, width, height);
          var found = jsQR(pixels.data, width, height, { inversionAttempts: "attemptBoth" });
          return Promise.resolve(found ? found.data : null);
        };
      });
    });
  }

  function setUp(box) {
    var field = document.getElementById(box.getAttribute("data-target"));
    var form = field && field.form;
    var video = box.querySelector("video");
    var start = box.querySelector("[data-scan-start]");
    var stop = box.querySelector("[data-scan-stop]");
    var photo = box.querySelector("[data-scan-photo]");
    var status = box.querySelector("[data-scan-status]");
    var decoder = null;
    var stream = null;
    var done = false;

    function say(name) { status.textContent = box.getAttribute("data-msg-" + name) || ""; }
    function decode(source, width, height) {
      if (!decoder) decoder = makeDecoder(box.getAttribute("data-jsqr"));
      return decoder.then(function (read) { return read(source, width, height); });
    }
    function found(text) {
      var code = normalise(text);
      if (!CODE.test(code)) { say("other"); return false; }
      done = true;
      stopCamera();
      field.value = code;
      say("found");
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
      return true;
    }
    function stopCamera() {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.hidden = true;
      stop.hidden = true;
      start.hidden = false;
    }
    function tick() {
      if (!stream || done) return;
      var next = function () { window.setTimeout(tick, 150); };  // ~7 reads a second
      if (video.readyState < 2) { next(); return; }
      decode(video, video.videoWidth, video.videoHeight).then(function (text) {
        if (!(text && found(text))) next();
      }, next);
    }

    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      start.hidden = false;
      start.addEventListener("click", function () {
        say("starting");
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
          .then(function (media) {
            stream = media;
            video.srcObject = media;
            video.hidden = false;
            stop.hidden = false;
            start.hidden = true;
            say("scanning");
            return video.play();
          })
          .then(tick, function () { stopCamera(); say("denied"); });
      });
      stop.addEventListener("click", function () { stopCamera(); say("stopped"); });
    }
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      if (!file) return;
      say("reading");
      // An ImageBitmap, or a data: URL: the Content-Security-Policy allows no blob: images.
      var read = function (source, width, height) {
        return decode(source, width, height).then(function (text) {
          if (!text) say("none"); else found(text);
        });
      };
      if (window.createImageBitmap) {
        window.createImageBitmap(file).then(function (bitmap) {
          return read(bitmap, bitmap.width, bitmap.height);
        }, function () { say("none"); });
        return;
      }
      var reader = new FileReader();
      reader.onload = function () {
        var image = new Image();
        image.onload = function () { read(image, image.naturalWidth, image.naturalHeight); };
        image.onerror = function () { say("none"); };
        image.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
    box.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-scanner]").forEach(setUp);
  });
})();
