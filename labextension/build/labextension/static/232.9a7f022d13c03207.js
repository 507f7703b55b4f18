"use strict";(self.rspackChunkjupyter_flows=self.rspackChunkjupyter_flows||[]).push([[232],{475(o,r,e){var t=e(601),a=e.n(t),l=e(314),p=(e.n(l))()(a());p.push([o.id,`/* jupyter-flows: sidebar, run view and DAG. Colours come from JupyterLab's theme variables. */

.jp-flows-sidebar,
.jp-flows-runview {
  --jp-flows-success: var(--jp-success-color1, #388e3c);
  --jp-flows-failed: var(--jp-error-color1, #d32f2f);
  --jp-flows-running: var(--jp-brand-color1, #1976d2);
  --jp-flows-waiting: var(--jp-warn-color1, #f57c00);
  --jp-flows-pending: var(--jp-layout-color4, #9e9e9e);
  --jp-flows-skipped: var(--jp-layout-color3, #bdbdbd);
  --jp-flows-cancelled: var(--jp-inverse-layout-color4, #757575);

  color: var(--jp-ui-font-color1);
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
  background: var(--jp-layout-color1);
  overflow: auto;
}

.jp-flows-sidebar {
  padding: 4px 8px 12px;
  min-width: 260px;
}

.jp-flows-runview {
  padding: 12px 16px 16px;
}

.jp-flows-header,
.jp-flows-runview-header {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: 6px;
}

.jp-flows-title {
  font-size: var(--jp-ui-font-size2);
  font-weight: 600;
  text-transform: uppercase;
  letter-spacing: 0.04em;
}

.jp-flows-section-title {
  margin: 12px 0 4px;
  font-weight: 600;
  color: var(--jp-ui-font-color2);
  text-transform: uppercase;
  font-size: var(--jp-ui-font-size0);
  letter-spacing: 0.05em;
}

.jp-flows-button {
  border: 1px solid var(--jp-border-color1);
  border-radius: 3px;
  background: var(--jp-layout-color2);
  color: var(--jp-ui-font-color1);
  padding: 3px 10px;
  cursor: pointer;
  font-size: var(--jp-ui-font-size1);
}

.jp-flows-button:hover:not([disabled]) {
  background: var(--jp-layout-color3);
}

.jp-flows-button[disabled] {
  opacity: 0.5;
  cursor: default;
}

.jp-flows-button.jp-mod-accept:not([disabled]) {
  background: var(--jp-brand-color1);
  border-color: var(--jp-brand-color1);
  color: white;
}

.jp-flows-button.jp-mod-warn:not([disabled]) {
  border-color: var(--jp-flows-failed);
  color: var(--jp-flows-failed);
}

.jp-flows-actions {
  display: flex;
  gap: 6px;
}

/* connection status */
.jp-flows-status {
  display: flex;
  align-items: flex-start;
  gap: 6px;
  margin: 6px 0;
  padding: 6px 8px;
  border-radius: 3px;
  background: var(--jp-layout-color2);
  word-break: break-word;
}

.jp-flows-status .jp-flows-dot {
  margin-top: 4px;
}

.jp-flows-status-connected .jp-flows-dot {
  background: var(--jp-flows-success);
}

.jp-flows-status-connecting .jp-flows-dot {
  background: var(--jp-flows-waiting);
}

.jp-flows-status-error {
  background: var(--jp-error-color3, #ffcdd2);
  color: var(--jp-ui-font-color0);
}

.jp-flows-status-error .jp-flows-dot {
  background: var(--jp-flows-failed);
}

.jp-flows-dot {
  display: inline-block;
  flex: none;
  width: 8px;
  height: 8px;
  border-radius: 50%;
  margin-right: 4px;
  background: var(--jp-flows-pending);
}

/* lists */
.jp-flows-flow,
.jp-flows-run,
.jp-flows-agent {
  padding: 4px 6px;
  border-bottom: 1px solid var(--jp-border-color2);
}

.jp-flows-run {
  cursor: pointer;
}

.jp-flows-run:hover {
  background: var(--jp-layout-color2);
}

.jp-flows-row-main {
  display: flex;
  align-items: center;
  gap: 4px;
  white-space: nowrap;
  overflow: hidden;
  text-overflow: ellipsis;
}

.jp-flows-row-detail {
  color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0);
  margin-top: 2px;
}

.jp-flows-flow-name,
.jp-flows-run-flow {
  font-weight: 600;
}

.jp-flows-muted {
  color: var(--jp-ui-font-color2);
}

.jp-flows-empty {
  color: var(--jp-ui-font-color2);
  font-style: italic;
  padding: 4px 6px;
}

.jp-flows-label {
  display: inline-block;
  padding: 0 5px;
  margin-right: 3px;
  border-radius: 8px;
  background: var(--jp-layout-color3);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size0);
}

.jp-flows-filters {
  display: flex;
  gap: 4px;
  margin-bottom: 4px;
}

.jp-flows-filters select {
  flex: 1;
  min-width: 0;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  border: 1px solid var(--jp-border-color1);
  border-radius: 2px;
  padding: 2px;
}

.jp-flows-warning {
  margin-top: 3px;
  padding: 3px 6px;
  border-left: 3px solid var(--jp-flows-waiting);
  background: var(--jp-warn-color3, #ffe0b2);
  color: var(--jp-ui-font-color0);
  font-size: var(--jp-ui-font-size0);
  white-space: normal;
}

.jp-flows-error {
  margin: 6px 0;
  padding: 6px 8px;
  border-left: 3px solid var(--jp-flows-failed);
  background: var(--jp-error-color3, #ffcdd2);
  color: var(--jp-ui-font-color0);
}

/* state badges: one colour per state category */
.jp-flows-state {
  display: inline-block;
  padding: 0 6px;
  border-radius: 3px;
  color: white;
  font-size: var(--jp-ui-font-size0);
  font-weight: 600;
  line-height: 16px;
  background: var(--jp-flows-state-color);
}

.jp-flows-state-success {
  --jp-flows-state-color: var(--jp-flows-success);
}

.jp-flows-state-failed {
  --jp-flows-state-color: var(--jp-flows-failed);
}

.jp-flows-state-running {
  --jp-flows-state-color: var(--jp-flows-running);
}

.jp-flows-state-waiting {
  --jp-flows-state-color: var(--jp-flows-waiting);
}

.jp-flows-state-pending {
  --jp-flows-state-color: var(--jp-flows-pending);
}

.jp-flows-state-skipped {
  --jp-flows-state-color: var(--jp-flows-skipped);
}

.jp-flows-state-cancelled {
  --jp-flows-state-color: var(--jp-flows-cancelled);
}

.jp-flows-dot.jp-flows-state-success,
.jp-flows-dot.jp-flows-state-failed,
.jp-flows-dot.jp-flows-state-running,
.jp-flows-dot.jp-flows-state-waiting,
.jp-flows-dot.jp-flows-state-pending,
.jp-flows-dot.jp-flows-state-skipped,
.jp-flows-dot.jp-flows-state-cancelled {
  background: var(--jp-flows-state-color);
}

/* run view */
.jp-flows-runview-title {
  font-size: var(--jp-ui-font-size3);
}

.jp-flows-runview-flow {
  font-weight: 600;
}

.jp-flows-runview-state {
  flex-basis: 100%;
  display: flex;
  align-items: center;
  gap: 6px;
}

.jp-flows-runview-badge {
  font-size: var(--jp-ui-font-size1);
  line-height: 20px;
  padding: 0 8px;
}

.jp-flows-columns {
  display: flex;
  flex-wrap: wrap;
  gap: 24px;
}

.jp-flows-column {
  flex: 1 1 320px;
  min-width: 0;
}

.jp-flows-table {
  border-collapse: collapse;
  width: 100%;
}

.jp-flows-table th,
.jp-flows-table td {
  text-align: left;
  padding: 3px 8px 3px 0;
  border-bottom: 1px solid var(--jp-border-color2);
  vertical-align: top;
}

.jp-flows-table thead th {
  color: var(--jp-ui-font-color2);
  font-weight: 600;
}

.jp-flows-kv th {
  font-family: var(--jp-code-font-family);
  font-weight: normal;
  color: var(--jp-ui-font-color2);
  width: 40%;
  word-break: break-all;
}

.jp-flows-kv td {
  font-family: var(--jp-code-font-family);
  word-break: break-all;
}

.jp-flows-timeline {
  list-style: none;
  margin: 0;
  padding: 0;
}

.jp-flows-timeline-item {
  padding: 3px 0;
  border-bottom: 1px solid var(--jp-border-color2);
}

.jp-flows-timeline-time {
  font-family: var(--jp-code-font-family);
  margin-right: 6px;
  color: var(--jp-ui-font-color2);
}

.jp-flows-timeline-message {
  margin-left: 14px;
  color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0);
}

.jp-flows-logs {
  margin: 0;
  padding: 6px 8px;
  max-height: 320px;
  min-height: 40px;
  overflow: auto;
  background: var(--jp-layout-color2);
  border: 1px solid var(--jp-border-color2);
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  white-space: pre-wrap;
  word-break: break-word;
}

.jp-flows-log-warning {
  color: var(--jp-warn-color0, #e65100);
}

.jp-flows-log-error,
.jp-flows-log-critical {
  color: var(--jp-error-color0, #b71c1c);
}

/* DAG */
.jp-flows-dag-container {
  overflow: auto;
  padding: 4px 0;
}

.jp-flows-dag-edge {
  fill: none;
  stroke: var(--jp-ui-font-color3, #aaa);
  stroke-width: 1.5;
}

.jp-flows-dag-edge-mapped {
  stroke-dasharray: 5 3;
}

.jp-flows-dag-arrow {
  fill: var(--jp-ui-font-color3, #aaa);
}

.jp-flows-dag-box {
  fill: var(--jp-layout-color1);
  stroke: var(--jp-flows-state-color);
  stroke-width: 2;
}

.jp-flows-dag-shadow {
  fill: var(--jp-layout-color2);
  stroke: var(--jp-flows-state-color);
  stroke-width: 1;
  opacity: 0.7;
}

.jp-flows-dag-node .jp-flows-dag-box {
  transition:
    fill 0.3s,
    stroke 0.3s;
}

.jp-flows-dag-node.jp-flows-state-success .jp-flows-dag-box,
.jp-flows-dag-node.jp-flows-state-failed .jp-flows-dag-box,
.jp-flows-dag-node.jp-flows-state-running .jp-flows-dag-box {
  fill: color-mix(in srgb, var(--jp-flows-state-color) 18%, var(--jp-layout-color1));
}

.jp-flows-dag-parameter {
  stroke-dasharray: 3 2;
}

.jp-flows-dag-label {
  fill: var(--jp-ui-font-color1);
  font-size: 12px;
  font-weight: 600;
}

.jp-flows-dag-sublabel {
  fill: var(--jp-ui-font-color2);
  font-size: 10px;
}

/* parameters dialog */
.jp-flows-parameters-form {
  display: flex;
  flex-direction: column;
  gap: 8px;
  min-width: 320px;
}

.jp-flows-parameter {
  display: flex;
  flex-direction: column;
  gap: 2px;
}

.jp-flows-parameter-name {
  font-family: var(--jp-code-font-family);
}

.jp-flows-run-link {
  cursor: pointer;
}
`,""]),e.d(r,{},{A:p})},314(o){o.exports=function(o){var r=[];return r.toString=function(){return this.map(function(r){var e="",t=void 0!==r[5];return r[4]&&(e+="@supports (".concat(r[4],") {")),r[2]&&(e+="@media ".concat(r[2]," {")),t&&(e+="@layer".concat(r[5].length>0?" ".concat(r[5]):""," {")),e+=o(r),t&&(e+="}"),r[2]&&(e+="}"),r[4]&&(e+="}"),e}).join("")},r.i=function(o,e,t,a,l){"string"==typeof o&&(o=[[null,o,void 0]]);var p={};if(t)for(var s=0;s<this.length;s++){var n=this[s][0];null!=n&&(p[n]=!0)}for(var i=0;i<o.length;i++){var f=[].concat(o[i]);t&&p[f[0]]||(void 0!==l&&(void 0===f[5]||(f[1]="@layer".concat(f[5].length>0?" ".concat(f[5]):""," {").concat(f[1],"}")),f[5]=l),e&&(f[2]&&(f[1]="@media ".concat(f[2]," {").concat(f[1],"}")),f[2]=e),a&&(f[4]?(f[1]="@supports (".concat(f[4],") {").concat(f[1],"}"),f[4]=a):f[4]="".concat(a)),r.push(f))}},r}},601(o){o.exports=function(o){return o[1]}},72(o){var r=[];function e(o){for(var e=-1,t=0;t<r.length;t++)if(r[t].identifier===o){e=t;break}return e}function t(o,t){for(var a={},l=[],p=0;p<o.length;p++){var s=o[p],n=t.base?s[0]+t.base:s[0],i=a[n]||0,f="".concat(n," ").concat(i);a[n]=i+1;var c=e(f),d={css:s[1],media:s[2],sourceMap:s[3],supports:s[4],layer:s[5]};if(-1!==c)r[c].references++,r[c].updater(d);else{var w=function(o,r){var e=r.domAPI(r);return e.update(o),function(r){r?(r.css!==o.css||r.media!==o.media||r.sourceMap!==o.sourceMap||r.supports!==o.supports||r.layer!==o.layer)&&e.update(o=r):e.remove()}}(d,t);t.byIndex=p,r.splice(p,0,{identifier:f,updater:w,references:1})}l.push(f)}return l}o.exports=function(o,a){var l=t(o=o||[],a=a||{});return function(o){o=o||[];for(var p=0;p<l.length;p++){var s=e(l[p]);r[s].references--}for(var n=t(o,a),i=0;i<l.length;i++){var f=e(l[i]);0===r[f].references&&(r[f].updater(),r.splice(f,1))}l=n}}},659(o){var r={};o.exports=function(o,e){var t=function(o){if(void 0===r[o]){var e=document.querySelector(o);if(window.HTMLIFrameElement&&e instanceof window.HTMLIFrameElement)try{e=e.contentDocument.head}catch(o){e=null}r[o]=e}return r[o]}(o);if(!t)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");t.appendChild(e)}},540(o){o.exports=function(o){var r=document.createElement("style");return o.setAttributes(r,o.attributes),o.insert(r,o.options),r}},56(o,r,e){o.exports=function(o){var r=e.nc;r&&o.setAttribute("nonce",r)}},206(o){o.exports=function(o){if("u"<typeof document)return{update:function(){},remove:function(){}};var r=o.insertStyleElement(o);return{update:function(e){var t,a,l;t="",e.supports&&(t+="@supports (".concat(e.supports,") {")),e.media&&(t+="@media ".concat(e.media," {")),(a=void 0!==e.layer)&&(t+="@layer".concat(e.layer.length>0?" ".concat(e.layer):""," {")),t+=e.css,a&&(t+="}"),e.media&&(t+="}"),e.supports&&(t+="}"),(l=e.sourceMap)&&"u">typeof btoa&&(t+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(l))))," */")),o.styleTagTransform(t,r,o.options)},remove:function(){var o;null===(o=r).parentNode||o.parentNode.removeChild(o)}}}},113(o){o.exports=function(o,r){if(r.styleSheet)r.styleSheet.cssText=o;else{for(;r.firstChild;)r.removeChild(r.firstChild);r.appendChild(document.createTextNode(o))}}},579(o,r,e){var t=e(72),a=e.n(t),l=e(206),p=e.n(l),s=e(659),n=e.n(s),i=e(56),f=e.n(i),c=e(540),d=e.n(c),w=e(113),j=e.n(w),u=e(475),v={};v.styleTagTransform=j(),v.setAttributes=f(),v.insert=n().bind(null,"head"),v.domAPI=p(),v.insertStyleElement=d(),a()(u.A,v),u.A&&u.A.locals&&u.A.locals}}]);