// Bundled with the site: no network. Insights toggles, menu, and the SMS preview.
(function () {
  "use strict";

  document.querySelectorAll(".insights-button").forEach(function (button) {
    button.addEventListener("click", function () {
      var list = document.getElementById(button.getAttribute("aria-controls"));
      var open = list.hasAttribute("hidden");
      if (open) { list.removeAttribute("hidden"); } else { list.setAttribute("hidden", ""); }
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "Hide insights" : "Insights";
    });
  });

  var menu = document.querySelector(".menu");
  if (menu) {
    menu.addEventListener("click", function () {
      var nav = document.getElementById("nav");
      var open = nav.classList.toggle("open");
      menu.setAttribute("aria-expanded", String(open));
    });
  }

  var data = document.getElementById("messages-data");
  if (!data) { return; }
  var messages = JSON.parse(data.textContent);
  var name = JSON.parse(document.getElementById("preview-name").textContent);
  var eventSelect = document.getElementById("event-select");
  var offerSelect = document.getElementById("offer-select");
  var segmentSelect = document.getElementById("segment-select");
  var preview = document.getElementById("sms-preview");
  var meta = document.getElementById("sms-meta");

  function matching() {
    return messages.filter(function (m) {
      return m.event_id === eventSelect.value && m.offer_id === offerSelect.value;
    });
  }

  function fillSegments() {
    var current = segmentSelect.value;
    segmentSelect.innerHTML = "";
    matching().forEach(function (m) {
      var option = document.createElement("option");
      option.value = m.segment_name;
      option.textContent = m.segment_name;
      segmentSelect.appendChild(option);
    });
    if (current) { segmentSelect.value = current; }
    // The previous segment may not have this pairing: fall back to the first.
    if (segmentSelect.selectedIndex === -1 && segmentSelect.options.length) {
      segmentSelect.selectedIndex = 0;
    }
  }

  function show() {
    var found = matching().filter(function (m) {
      return m.segment_name === segmentSelect.value;
    })[0] || matching()[0];
    if (!found) {
      preview.textContent = "No message pairs this event with this offer: pick another offer.";
      meta.textContent = "";
      return;
    }
    preview.textContent = found.message_text.split("{first_name}").join(name);
    meta.textContent = "To: " + found.segment_name + " · " + found.generator + " · " +
      found.character_count + " chars · " + found.sms_encoding + " · " +
      found.sms_parts + " SMS";
  }

  eventSelect.addEventListener("change", function () { fillSegments(); show(); });
  offerSelect.addEventListener("change", function () { fillSegments(); show(); });
  segmentSelect.addEventListener("change", show);
  // Start on a pairing that exists.
  if (messages.length) {
    eventSelect.value = messages[0].event_id;
    offerSelect.value = messages[0].offer_id;
  }
  fillSegments();
  show();
})();
