# docs/monitor.md, "Why both ranks wait": per step, how long after the last rank reached the
# gradient barrier the first and the last rank left it (medians, µs), from a node-shared run's
# trace.json of 2 ranks. Usage: barrier_exit.py RUN_DIR/trace.json
import json,sys,statistics
d=json.load(open(sys.argv[1]))
ev=[e for e in d['traceEvents'] if e['ph']=='X']
steps={}
for e in ev:
    if e['cat']=='step': steps[(e['pid'],e['args']['step'])]=e
def inside(e,s): return e['ts']>=s['ts'] and e['ts']+e['dur']<=s['ts']+s['dur']
lat=[];st=[];pb=[]
for (pid,n),s in steps.items():
    if pid!=0 or (1,n) not in steps: continue
    s1=steps[(1,n)]
    b0=[e for e in ev if e['pid']==0 and e['tid']==1 and e['name']=='gradient barrier' and inside(e,s)]
    b1=[e for e in ev if e['pid']==1 and e['tid']==1 and e['name']=='gradient barrier' and inside(e,s1)]
    if not b0 or not b1: continue
    last=max(b0[0]['ts'],b1[0]['ts'])
    lat.append(min(b0[0]['ts']+b0[0]['dur'],b1[0]['ts']+b1[0]['dur'])-last)  # first exit after last arrival
    lat.append(max(b0[0]['ts']+b0[0]['dur'],b1[0]['ts']+b1[0]['dur'])-last)
    st.append(s['dur'])
print("barrier exit after the last arrival (first, last exit) median us:", statistics.median(lat[0::2]), statistics.median(lat[1::2]), "step median us", statistics.median(st))
