#include "html_assets.h"

namespace ptscope {

const char* const kPageCss = R"CSS(
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#1d232a;background:#fff;max-width:1200px}
h1{font-size:20px;margin:0 0 8px;word-break:break-all}h2{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
.top{display:flex;flex-wrap:wrap;gap:8px 48px}.side th{border-bottom:1px solid #999}.side td.num{padding-left:14px}
.fields th{font-weight:600;white-space:nowrap}.fields td{word-break:break-all}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
#treemap svg,#bytemap svg{display:block;border:1px solid #ccd}
#treemap rect{stroke:#fff;stroke-width:1.5;cursor:pointer}#treemap text{font-size:11px;fill:#fff;pointer-events:none}
.crumbs a{cursor:pointer;color:#2558a6;text-decoration:underline}.crumbs{margin:4px 0}
.legend span{display:inline-block;margin-right:14px;white-space:nowrap}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
#tensors table{width:100%;font-size:13px}#tensors th{cursor:pointer;border-bottom:1px solid #999;user-select:none}
#tensors td{border-bottom:1px solid #eee;word-break:break-all}#tensors input{width:320px;padding:3px;margin-bottom:6px}
tr.added td{background:#e3f4df}tr.removed td{background:#fbe1e1}tr.changed td{background:#fdebd6}tr.renamed td{background:#efe4f2}
.bar{height:14px;display:inline-block;background:#4e79a7;vertical-align:middle}
)CSS";

const char* const kPageJs = R"JS(
(function(){
'use strict';
var data=JSON.parse(document.getElementById('data').textContent);
var root=document.getElementById('sections');
var NS='http://www.w3.org/2000/svg';
var palette=['#4e79a7','#f28e2b','#59a14f','#e15759','#76b7b2','#edc948','#b07aa1','#ff9da7','#9c755f','#86bcb6'];
var statusColor={added:'#59a14f',removed:'#e15759',changed:'#f28e2b',renamed:'#b07aa1',unchanged:'#9fb3c8'};
function el(tag,attrs,text){var e=document.createElement(tag);if(attrs)Object.keys(attrs).forEach(function(k){e.setAttribute(k,attrs[k]);});if(text!==undefined)e.textContent=String(text);return e;}
function sv(tag,attrs){var e=document.createElementNS(NS,tag);Object.keys(attrs).forEach(function(k){e.setAttribute(k,attrs[k]);});return e;}
function fmt(n){return Number(n).toLocaleString('en-US');}
function human(b){var u=['B','kB','MB','GB','TB'],i=0;b=Number(b);while(b>=1000&&i<u.length-1){b/=1000;i++;}return (i?b.toFixed(2):String(b))+' '+u[i];}
function section(id,title){var s=el('section',{id:id});s.appendChild(el('h2',null,title));root.appendChild(s);return s;}
function swatch(c){var s=el('span',{'class':'sw'});s.style.background=c;return s;}
function legend(parent,items){var d=el('div',{'class':'legend'});items.forEach(function(it){var s=el('span');s.appendChild(swatch(it[0]));s.appendChild(document.createTextNode(it[1]));d.appendChild(s);});parent.appendChild(d);}

// Squarified treemap: rows of rectangles laid along the shorter side, a row
// growing while that improves its worst aspect ratio.
function squarify(items,x,y,w,h){
  var out=[],total=0;items.forEach(function(i){total+=i.size;});
  if(!total||w<=0||h<=0)return out;
  var rest=items.map(function(i){return {item:i,area:i.size*w*h/total};});
  function worst(row,side){var s=0,mx=0,mn=Infinity;row.forEach(function(r){s+=r.area;mx=Math.max(mx,r.area);mn=Math.min(mn,r.area);});return Math.max(side*side*mx/(s*s),s*s/(side*side*mn));}
  while(rest.length){
    var side=Math.min(w,h),row=[rest[0]],i=1;
    while(i<rest.length&&worst(row.concat([rest[i]]),side)<=worst(row,side)){row.push(rest[i]);i++;}
    rest=rest.slice(i);var s=0;row.forEach(function(r){s+=r.area;});
    if(w>=h){var cw=s/h,cy=y;row.forEach(function(r){var rh=r.area/cw;out.push({item:r.item,x:x,y:cy,w:cw,h:rh});cy+=rh;});x+=cw;w-=cw;}
    else{var ch=s/w,cx=x;row.forEach(function(r){var rw=r.area/ch;out.push({item:r.item,x:cx,y:y,w:rw,h:ch});cx+=rw;});y+=ch;h-=ch;}
  }
  return out;
}
function node(name,full){return {name:name,full:full,size:0,kids:new Map(),status:{}};}
function tree(items){
  var top=node('(all)','');
  items.forEach(function(t){
    var parts=String(t.name).split('.'),n=top,path='';
    var add=function(m){m.size+=t.numel;if(t.status)m.status[t.status]=(m.status[t.status]||0)+t.numel;};
    add(n);
    parts.forEach(function(p,i){path+=(i?'.':'')+p;if(!n.kids.has(p))n.kids.set(p,node(p,path));n=n.kids.get(p);add(n);});
  });
  return top;
}
function nodeColor(n,i){
  var keys=Object.keys(n.status);if(!keys.length)return palette[i%palette.length];
  var best=null;keys.forEach(function(k){if(k!=='unchanged'&&(!best||n.status[k]>n.status[best]))best=k;});
  return statusColor[best||'unchanged'];
}
function drawTreemap(items){
  var s=section('treemap','Parameters by module');
  s.appendChild(el('div',null,'Area is numel; each module shows its submodules. Click a module to zoom in.'));
  var crumbs=el('div',{'class':'crumbs'});s.appendChild(crumbs);
  var W=1000,H=380,svg=sv('svg',{width:W,height:H,viewBox:'0 0 '+W+' '+H});s.appendChild(svg);
  var top=tree(items);
  svg.setAttribute('data-treemap-total',top.size);
  function sorted(n){return Array.from(n.kids.values()).filter(function(k){return k.size>0;}).sort(function(a,b){return b.size-a.size;});}
  function rect(n,r,fill,trail,depth){
    var g=sv('g',{});var e=sv('rect',{x:r.x,y:r.y,width:Math.max(r.w,0),height:Math.max(r.h,0),fill:fill,'fill-opacity':depth?0.85:1,'data-module':n.full});
    var tip=sv('title',{});tip.textContent=n.full+': '+fmt(n.size)+' numel';e.appendChild(tip);
    if(n.kids.size)e.addEventListener('click',function(ev){ev.stopPropagation();show(n,trail.concat([n]));});
    g.appendChild(e);
    if(r.w>40&&r.h>14){var t=sv('text',{x:r.x+4,y:r.y+12});t.textContent=n.name.slice(0,Math.floor(r.w/7));g.appendChild(t);}
    svg.appendChild(g);
  }
  function show(n,trail){
    // A module with one submodule says nothing: go down to where it branches.
    while(n.kids.size===1&&Array.from(n.kids.values())[0].kids.size){n=Array.from(n.kids.values())[0];trail=trail.concat([n]);}
    while(svg.firstChild)svg.removeChild(svg.firstChild);
    while(crumbs.firstChild)crumbs.removeChild(crumbs.firstChild);
    trail.forEach(function(t,i){
      if(i)crumbs.appendChild(document.createTextNode(' / '));
      var a=el(i<trail.length-1?'a':'span',null,t.name+' ('+fmt(t.size)+')');
      if(i<trail.length-1)a.addEventListener('click',function(){show(t,trail.slice(0,i+1));});
      crumbs.appendChild(a);
    });
    squarify(sorted(n),0,0,W,H).forEach(function(r,i){
      var fill=nodeColor(r.item,i);
      rect(r.item,r,fill,trail,0);
      if(r.item.kids.size&&r.w>30&&r.h>40)  // the next level inside, below the label
        squarify(sorted(r.item),r.x+3,r.y+16,r.w-6,r.h-19).forEach(function(q,j){
          rect(q.item,q,Object.keys(q.item.status).length?nodeColor(q.item,j):fill,trail.concat([r.item]),1);
        });
    });
  }
  show(top,[top]);
  var st=Object.keys(top.status);
  if(st.length)legend(s,st.map(function(k){return [statusColor[k],k];}));
}
function drawBytemap(rows){
  var s=section('bytemap','Byte map');var total=0;rows.forEach(function(r){total+=r.bytes;});
  var W=1000,H=28,svg=sv('svg',{width:W,height:H,viewBox:'0 0 '+W+' '+H}),x=0;
  rows.forEach(function(r,i){var w=total?r.bytes*W/total:0;var rect=sv('rect',{x:x,y:0,width:w,height:H,fill:palette[i%palette.length]});
    var tip=sv('title',{});tip.textContent=r.label+': '+fmt(r.bytes)+' B';rect.appendChild(tip);svg.appendChild(rect);x+=w;});
  s.appendChild(svg);
  legend(s,rows.map(function(r,i){return [palette[i%palette.length],r.label+' '+fmt(r.bytes)+' B ('+(total?(100*r.bytes/total).toFixed(2):'0')+'%)'];}));
}
function drawDtypes(rows){
  var s=section('dtypes','Dtypes');var t=el('table');var max=0;rows.forEach(function(r){max=Math.max(max,r.bytes);});
  var hd=el('tr');['dtype','numel','bytes',''].forEach(function(h){hd.appendChild(el('th',null,h));});t.appendChild(hd);
  rows.forEach(function(r,i){var tr=el('tr');tr.appendChild(el('td',null,r.dtype));tr.appendChild(el('td',{'class':'num'},fmt(r.numel)));
    tr.appendChild(el('td',{'class':'num'},human(r.bytes)));var td=el('td');var b=el('span',{'class':'bar'});b.style.width=(max?Math.max(1,300*r.bytes/max):0)+'px';b.style.background=palette[i%palette.length];td.appendChild(b);tr.appendChild(td);t.appendChild(tr);});
  s.appendChild(t);
}
function drawStacks(st){
  var s=section('stacks',st.title||'Memory');var max=0;
  st.bars.forEach(function(b){var t=0;b.values.forEach(function(v){t+=v;});b.total=t;max=Math.max(max,t);});
  var rowH=30,W=1000,L=150,H=st.bars.length*rowH+10,svg=sv('svg',{width:W,height:H,viewBox:'0 0 '+W+' '+H});
  st.bars.forEach(function(b,j){var x=L,y=j*rowH+4;var lab=sv('text',{x:0,y:y+16,'font-size':12});lab.textContent=b.label;svg.appendChild(lab);
    b.values.forEach(function(v,i){var w=max?v*(W-L-120)/max:0;var r=sv('rect',{x:x,y:y,width:w,height:rowH-8,fill:palette[i%palette.length]});
      var tip=sv('title',{});tip.textContent=st.series[i]+': '+human(v);r.appendChild(tip);svg.appendChild(r);x+=w;});
    var tt=sv('text',{x:x+6,y:y+16,'font-size':12,'data-bar-total':b.total});tt.textContent=human(b.total);svg.appendChild(tt);});
  s.appendChild(svg);legend(s,st.series.map(function(n,i){return [palette[i%palette.length],n];}));
}
function drawTable(tb){
  var s=section('tensors','Tensors');var input=el('input',{type:'search',placeholder:'filter by any column'});s.appendChild(input);
  var info=el('div');s.appendChild(info);var t=el('table');var thead=el('thead'),body=el('tbody');t.appendChild(thead);t.appendChild(body);s.appendChild(t);
  var LIMIT=2000,sortCol=-1,asc=true,hr=el('tr');
  tb.columns.forEach(function(c,i){var th=el('th',c.numeric?{'class':'num'}:null,c.name);th.addEventListener('click',function(){asc=sortCol===i?!asc:!c.numeric;sortCol=i;render();});hr.appendChild(th);});
  thead.appendChild(hr);
  function render(){
    var q=input.value.toLowerCase();
    var rows=tb.rows.filter(function(r){return !q||r.some(function(v){return String(v).toLowerCase().indexOf(q)>=0;});});
    if(sortCol>=0){var num=tb.columns[sortCol].numeric;rows=rows.slice().sort(function(a,b){var x=a[sortCol],y=b[sortCol];var c=num?Number(x)-Number(y):String(x).localeCompare(String(y));return asc?c:-c;});}
    while(body.firstChild)body.removeChild(body.firstChild);
    rows.slice(0,LIMIT).forEach(function(r){var tr=el('tr',tb.status_column>=0?{'class':String(r[tb.status_column])}:null);
      r.forEach(function(v,i){tr.appendChild(el('td',tb.columns[i].numeric?{'class':'num'}:null,tb.columns[i].numeric?fmt(v):v));});body.appendChild(tr);});
    t.setAttribute('data-rows',rows.length);
    info.textContent=fmt(rows.length)+' of '+fmt(tb.rows.length)+' rows'+(rows.length>LIMIT?' (first '+fmt(LIMIT)+' shown)':'');
  }
  input.addEventListener('input',render);render();
}
var sec=data;
if(sec.treemap)drawTreemap(sec.treemap);
if(sec.stacks)drawStacks(sec.stacks);
if(sec.bytemap)drawBytemap(sec.bytemap);
if(sec.dtypes)drawDtypes(sec.dtypes);
if(sec.table)drawTable(sec.table);
document.body.setAttribute('data-rendered','yes');
})();
)JS";

}  // namespace ptscope
