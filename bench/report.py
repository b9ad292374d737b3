"""results.json -> the Markdown table (RESULTS.md) and the latency-ratio plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TASK_NAMES = {
    "asr": "ASR (Whisper-base size, 30 s)",
    "image_classification": "Image classification (ViT-base size)",
    "fill_mask": "Fill-mask (BERT-base size)",
    "zero_shot": "Zero-shot text (BERT-base NLI)",
}


def mark(met: bool) -> str:
    return "✅" if met else "❌"


def cpu_split(level: dict[str, Any]) -> str:
    if "server_cpu_s_per_image" not in level:
        return "–"
    return f"{level['server_cpu_s_per_image']:.2f} / {level['client_cpu_s_per_image']:.2f}"


def generation_markdown(g: dict[str, Any], heading: str, baseline: str) -> list[str]:
    """One generation comparison (bench/generation.py's `compare`): the baseline, the app through the
    browser's protocol (the targets' path) and through gradio_client."""
    base = g.get("bare") or g["engine_client"]
    rows = [
        (baseline, base),
        ("this app, `/generate`, browser protocol", g["app"]),
        ("this app, `/generate`, gradio_client", g["app_gradio_client"]),
    ]
    return [
        "",
        f"## {heading}",
        "",
        "| | time to first token | tokens/s |",
        "|---|---|---|",
        *(f"| {name} | {row['ttft_s'] * 1000:.0f} ms | {row['tokens_per_s']:.2f} |" for name, row in rows),
        f"| browser path − baseline / ÷ baseline, round by round | {g['ttft_delta_s'] * 1000:+.0f} ms "
        f"({g['ratio_ttft']:.2f}×) | {g['ratio_tokens_per_s']:.3f}× |",
        f"| the same from the medians | {g['medians_ttft_delta_s'] * 1000:+.0f} ms "
        f"| {g['ratio_of_medians_tokens_per_s']:.3f}× |",
        f"| target (browser path) | ≤ baseline + {g['target_ttft_delta_s'] * 1000:.0f} ms | ≥ {g['target_tokens_per_s_ratio']:.2f}× |",
        "",
        f"Met: {mark(g['met'])}. Through gradio_client: TTFT {g['gradio_client_ttft_delta_s'] * 1000:+.0f} ms, tokens/s "
        f"{g['ratio_gradio_client_tokens_per_s']:.3f}×; its floor (a round trip that does no work) is "
        f"{g['client_floor_s'] * 1000:.0f} ms, so {g['ttft_delta_minus_floor_s'] * 1000:+.0f} ms without it.",
    ]


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"# Benchmark results ({results['mode']} run)",
        "",
        f"{machine['cpu_count']} CPU cores, torch {machine['torch']} ({machine['torch_threads']} threads), "
        f"transformers {machine['transformers']}, gradio {machine['gradio']}; random-weight models at the shipped "
        f"defaults' sizes; whole run {results['duration_s']:.0f} s. Every ratio compares numbers from this run.",
        "",
        "## Request latency (median / p90, seconds)",
        "",
        "The demo and the app through the browser's protocol (upload, queue join, server-sent events), where the targets "
        "are judged; the app also through gradio_client, with that client's floor (a round trip that does no work). "
        "The variants run interleaved, one call each per round; a ratio is the median of the rounds' own ratios, which "
        "cancels the machine's drift between rounds (the ratio of the medians in brackets).",
        "",
        "| task | bare pipeline | plain Gradio demo | this app | app / bare | app / plain demo | target | met "
        "| app via gradio_client | its floor | (gradio_client − floor) / bare |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for task, r in results["latency"].items():
        target = f"≤ {r['target_app_bare']:.2f}× bare, " if r["target_app_bare"] else ""
        lines.append(
            f"| {TASK_NAMES[task]} | {r['bare']['median_s']:.3f} / {r['bare']['p90_s']:.3f} "
            f"| {r['plain_demo']['median_s']:.3f} / {r['plain_demo']['p90_s']:.3f} "
            f"| {r['app']['median_s']:.3f} / {r['app']['p90_s']:.3f} "
            f"| {r['ratio_app_bare']:.3f}× ({r['ratio_of_medians_app_bare']:.3f}×) "
            f"| {r['ratio_app_plain_demo']:.3f}× ({r['ratio_of_medians_app_plain_demo']:.3f}×) | {target}≤ {r['target_app_plain_demo']:.2f}× demo | {mark(r['met'])} "
            f"| {r['app_gradio_client']['median_s']:.3f} ({r['ratio_gradio_client_bare']:.2f}× bare) "
            f"| {r['client_floor']['median_s']:.3f} | {r['ratio_app_minus_floor_bare']:.3f}× |"
        )
    t = results["throughput"]
    lines += [
        "",
        "## Throughput, image classification (images/s)",
        "",
        f"Sequential bare loop: **{t['bare_sequential_images_per_s']:.2f} images/s**. The bare pipeline on batches of 16 "
        f"in-process (the ceiling batching can reach on this machine): **{t['bare_batched_images_per_s']:.2f} images/s**, "
        f"{t['ratio_bare_batched_to_sequential']:.2f}× the loop. The bare loop takes "
        f"{t['bare_cpu_s_per_image']:.2f} CPU-s per image.",
        "",
        "Browser = the page's protocol, clients in a process of their own (the target's path); gradio_client = "
        "the Python client, clients in the benchmark's process. CPU-s per image: the app's process / the clients'.",
        "",
        "| clients | protocol | batched endpoint | ratio to bare | CPU-s per image | single endpoint | ratio to bare "
        "| CPU-s per image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for suffix, protocol in (("", "browser"), ("_gradio_client", "gradio_client")):
        for clients in t.get("app_batched" + suffix, {}):
            b, u = t["app_batched" + suffix][clients], t["app_unbatched" + suffix][clients]
            lines.append(
                f"| {clients} | {protocol} | {b['images_per_s']:.2f} | {b['ratio_to_bare']:.2f}× | {cpu_split(b)} "
                f"| {u['images_per_s']:.2f} | {u['ratio_to_bare']:.2f}× | {cpu_split(u)} |"
            )
    lines += ["", f"Target ≥ {t['target_at_16']:.1f}× at 16 clients: {t['ratio_at_16']:.2f}× {mark(t['met'])}"]
    if "under_load" in t:
        lines += under_load_markdown(t["under_load"])
    lines += generation_markdown(
        results["generation"],
        f"Text generation (~0.5B Llama-style, {results['generation']['new_tokens']} new tokens, greedy, streamed)",
        "bare `generate`, first token from its streamer",
    )
    r = results.get("remote_generation")
    if r:
        lines += generation_markdown(
            r,
            f"Text generation served by an engine ({r['engine']}, same model, {r['new_tokens']} new "
            "tokens, greedy, streamed)",
            "the engine's own client (`openai`, streamed `/v1/completions`)",
        )
    if "many_users" in results:
        lines += many_users_markdown(results["many_users"])
    if "vllm_users" in results:
        lines += vllm_users_markdown(results["vllm_users"])
    if "speech_users" in results:
        lines += speech_users_markdown(results["speech_users"])
    if "fair_share" in results:
        lines += fair_share_markdown(results["fair_share"])
    if "quantization" in results:
        lines += quantization_markdown(results["quantization"])
    if "fine_tune" in results:
        lines += fine_tune_markdown(results["fine_tune"])
    s = results["startup"]
    lines += [
        "",
        "## Start-up (until the page answers)",
        "",
        f"`python app.py` (shipped models.yaml, {s['tabs']} tabs): **{s['app_s']:.2f} s**; bare gr.Blocks with "
        f"{s['tabs']} empty tabs: **{s['blocks_s']:.2f} s**; ratio **{s['ratio']:.2f}×** (target ≤ {s['target']:.1f}×) {mark(s['met'])}",
    ]
    if "app_idle_cpu" in s:
        lines += [
            "",
            "## Idle CPU",
            "",
            f"Each server started, left {s['idle_cpu_s']:g} s to settle, then read for {s['idle_cpu_s']:g} s: the app uses "
            f"**{s['app_idle_cpu']:.1%}** of a core, the bare gr.Blocks **{s['blocks_idle_cpu']:.1%}** (Gradio's queue looks for work "
            "every millisecond; the app's waits to be woken by work, playground/web/gradio_patches.py). A share of a core taken while "
            "idle is taken from the model too while it runs.",
        ]
    m = results["memory"]
    lines += [
        "",
        f"## Memory (budget {m['budget_gb']:g} GB, RSS in MB)",
        "",
        f"Idle after start {m['idle_mb']:.0f}; speech tab's libraries imported {m['speech_libraries_mb']:.0f}; "
        f"baseline (every tab's libraries imported by a first load/unload pass, no model) {m['baseline_mb']:.0f}; "
        f"limit = baseline + budget = {m['limit_mb']:.0f}.",
        "",
        "| load | peak RSS | RSS after | models loaded after |",
        "|---|---|---|---|",
    ]
    for step in m["steps"]:
        lines.append(
            f"| {step['model']} | {step['peak_mb']:.0f} | {step['after_mb']:.0f} | {', '.join(step['loaded'])} |"
        )
    lines += [
        "",
        f"Peak {m['peak_mb']:.0f} MB ≤ limit {m['limit_mb']:.0f} MB ({m['ratio_peak_to_limit']:.2f}×); after "
        f'`/unload_model("all")` {m["after_unload_mb"]:.0f} MB = {m["ratio_after_unload_to_baseline"]:.2f}× baseline '
        f"(target ≤ 1.10×) {mark(m['met'])}",
        "",
        "![latency ratios](latency_ratios.png)",
        "",
    ]
    return "\n".join(lines)


def first_token(bare: dict[str, Any]) -> str:
    """The bare batch's first-token time (absent from runs before it was measured)."""
    return f"{bare['first_token_s']:.2f} s" if bare.get("first_token_s") is not None else "–"


def many_users_markdown(u: dict[str, Any]) -> list[str]:
    """The "many users" section: batching on and off beside the bare padded batch, per client count."""
    lines = [
        "",
        f"## Many users: concurrent streaming `/generate` (~0.5B Llama-style, {u['new_tokens']} new tokens, greedy)",
        "",
        "Clients in a separate process; browser = POST `/gradio_api/queue/join` + server-sent events (httpx), "
        "as the page does; gradio_client = the Python client (it polls every 50 ms). Aggregate = all tokens / "
        "wall time; per user = a request's tokens / its duration (median); TTFT p50 / p90 in seconds; "
        "client CPU in % of one core.",
        "",
        "| clients | app | protocol | aggregate tokens/s | per user tokens/s | TTFT p50 / p90 | bare padded batch tokens/s "
        "| bare batch's first token | app / bare | client CPU |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    bare = u["bare_padded_batch"]
    names = {"batched": "batching on", "off": "`max_batch_size: 1`"}
    for variant in ("batched", "off"):
        for protocol, levels in u[variant].items():
            for clients, r in levels.items():
                lines.append(
                    f"| {clients} | {names[variant]} | {protocol} | {r['aggregate_tokens_per_s']:.1f} | "
                    f"{r['per_user_tokens_per_s']:.2f} | {r['ttft_p50_s']:.2f} / {r['ttft_p90_s']:.2f} | "
                    f"{bare[clients]['tokens_per_s']:.1f} | {first_token(bare[clients])} "
                    f"| {r['aggregate_tokens_per_s'] / bare[clients]['tokens_per_s']:.2f}× | "
                    f"{100 * r['client_cpu_share']:.0f}% |"
                )
    t, met = u["targets"], u["met"]
    top = max(u["batched"]["browser"], key=int)
    lines += [
        "",
        f"Targets (browser path): aggregate at {top} clients ≥ {t['aggregate_at_16']:.0f}× batching off: "
        f"{u['ratio_aggregate_at_16']:.2f}× {mark(met['aggregate_at_16'])}; TTFT p90 at {top} clients ≤ "
        f"{t['ttft_p90_at_16_s']:.0f} s: {u['batched']['browser'][top]['ttft_p90_s']:.2f} s {mark(met['ttft_p90_at_16'])}; "
        f"one client ≥ {t['alone_ratio']:.2f}× batching off: {u['ratio_alone']:.3f}× {mark(met['alone'])} (median of "
        f"{u['batched']['browser']['1']['requests']} interleaved rounds' ratios; "
        f"{u.get('ratio_alone_of_medians', u['ratio_alone']):.3f}× from the medians).",
    ]
    if "to_bare" in t:
        to_bare = ", ".join(f"{c} clients {v:.2f}×" for c, v in u["ratio_to_bare"].items() if int(c) > 1)
        lines += [
            "",
            f"Target: aggregate ≥ {t['to_bare']:.1f}× the bare padded batch: {to_bare} {mark(met['to_bare'])}",
        ]
    lines += [
        "",
        "![many users](many_users.png)",
    ]
    return lines


def under_load_markdown(u: dict[str, Any]) -> list[str]:
    """The CPU-heavy tabs' plain endpoints: 16 page sessions at once against one after another."""
    names = {"image_classification": "image classification, `/classify_image`", "fill_mask": "fill-mask, `/fill_mask`"}
    lines = [
        "",
        "### The CPU-heavy tabs under load (answers/s, browser protocol)",
        "",
        "One client calling one after another, then 16 clients at once on the same endpoint (forward passes "
        "take turns on the CPU's cores).",
        "",
        "| tab | one after another | 16 at once | × one after another |",
        "|---|---|---|---|",
    ]
    for tab, levels in u["tabs"].items():
        lines.append(
            f"| {names.get(tab, tab)} | {levels['1']['images_per_s']:.2f} | {levels['16']['images_per_s']:.2f} "
            f"| {levels['ratio_16_to_1']:.2f}× |"
        )
    lines += ["", f"Target ≥ {u['target']:.1f}× one after another at 16 clients: {mark(u['met'])}"]
    return lines


VLLM_VARIANTS = {
    "app": "this app, local batching (browser protocol)",
    "vllm": "vLLM, its own client (`openai`, streamed `/v1/completions`)",
    "app_endpoint": "this app, `endpoint:` entry on that vLLM (browser protocol)",
    "app_one_thread": "this app, local batching, torch on one thread (browser protocol)",
}


def vllm_users_markdown(v: dict[str, Any]) -> list[str]:
    """The "many users on vLLM" section: the app's local batching, vLLM and the app on vLLM, per client count."""
    heading = "## Many users on vLLM: the app's batching beside vLLM's CPU build (same model, streamed, greedy)"
    if "skipped" in v:
        return ["", heading, "", f"Skipped: {v['skipped']}."]
    e = v["engine"]
    lines = [
        "",
        heading,
        "",
        f"{e['name']} (`{e['command']}`, KV cache {e['kv_cache_gb']} GB; idle it used {e['idle_cpu_share']:.1%} of a "
        f"core) serving {v['model']}, {v['new_tokens']} new tokens a request; the servers up side by side, "
        f"{v['rounds']} interleaved rounds per client count (each variant once a round, the order rotating). "
        "Aggregate = all tokens / wall time over the rounds; TTFT p50 / p90 in seconds over every request; × vLLM = "
        "median of the rounds' own ratios (TTFT: of the rounds' p90s); short = requests that ended before "
        f"{v['new_tokens']} tokens.",
        "",
        "| clients | server and client | aggregate tokens/s | × vLLM | per user tokens/s | TTFT p50 / p90 "
        "| p90 × vLLM | short | client CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clients, level in v["levels"].items():
        for variant, name in VLLM_VARIANTS.items():
            r = level[variant]
            lines.append(
                f"| {clients} | {name} | {r['aggregate_tokens_per_s']:.1f} | {r['ratio_to_vllm']:.2f}× "
                f"| {r['per_user_tokens_per_s']:.2f} | {r['ttft_p50_s']:.2f} / {r['ttft_p90_s']:.2f} "
                f"| {r['ttft_p90_ratio_to_vllm']:.2f}× | {r['short_requests']} "
                f"| {100 * r['client_cpu_share']:.0f}% |"
            )
    top = max(v["levels"], key=int)
    at_top, met = v["levels"][top], v["met"]
    lines += [
        "",
        f"Target at {top} clients: the app's local batching ≥ {v['target_aggregate_at_16']:.1f}× vLLM's aggregate: "
        f"{at_top['app']['ratio_to_vllm']:.2f}× {mark(met['aggregate_at_16'])}, with its first token still sooner (p90 "
        f"{at_top['app']['ttft_p90_s']:.2f} s against {at_top['vllm']['ttft_p90_s']:.2f} s) "
        f"{mark(met['first_token_sooner_at_16'])}.",
    ]
    return lines


def speech_users_markdown(u: dict[str, Any]) -> list[str]:
    """The "speech users" section: concurrent /transcribe clients beside the bare pipeline."""
    bare = u["bare"]
    seq = bare["sequential"]
    lines = [
        "",
        f"## Many users transcribing: concurrent `/transcribe` (Whisper-base size, {u['audio_s']:.0f} s clips)",
        "",
        f"Bare pipeline in-process (with the app's page defaults: "
        f"{', '.join(f'{k}={v!r}' for k, v in bare.get('options', {}).items()) or 'no options'}): one clip after another "
        f"**{seq['clips_per_s']:.3f} clips/s** ({seq['clips']} clips); "
        + "; ".join(
            f"one batch of {b['clips']} **{b['clips_per_s']:.3f} clips/s** "
            f"({u['ratio_bare_batch_to_sequential'][str(b['clips'])]:.2f}×)"
            for name, b in bare.items()
            if name.startswith("batch_")
        )
        + ". Clients in a separate process, each request uploading its clip (browser = POST `/gradio_api/upload`, "
        "then queue/join + server-sent events; gradio_client = `handle_file`). Clips/s = requests / wall time; "
        "latency = a request's own duration, upload included; batch = the most 30 s windows that shared one "
        "forward pass (/generation_activity; the bare batch compared is as large as the batching app can batch); "
        "client CPU in % of one core. Two apps: the CPU default "
        "(no `max_batch_size`: one window a forward pass, concurrent requests taking turns on the cores) and "
        f"`max_batch_size: {u.get('app_batch_size', '?')}` (what a GPU does by default); one client at a time is "
        "the same work on both and is measured on the CPU default, before and after each of its concurrent "
        "levels: this machine's speed drifts by several percent over minutes, so each level there is compared "
        "with the lone client's runs on either side of it (the 1-client row pools them all).",
        "",
        "| app | clients | protocol | requests | clips/s | × one after another | × bare loop | × bare batch "
        "| latency p50 / p90 | batch | same text | client CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    one = u["app"]["cpu_default"]["browser"]["1"]["clips_per_s"]
    for app, protocols in u["app"].items():
        label = "CPU default" if app == "cpu_default" else f"`max_batch_size: {u.get('app_batch_size', '?')}`"
        for protocol, levels in protocols.items():
            for clients, r in levels.items():
                # Without batching no batcher runs (none recorded): one window a forward pass.
                batch = bare.get(f"batch_{min(int(clients), u.get('app_batch_size', int(clients)))}")
                to_batch = f"{r['clips_per_s'] / batch['clips_per_s']:.2f}×" if batch and int(clients) > 1 else "–"
                lines.append(
                    f"| {label} | {clients} | {protocol} | {r['requests']} | {r['clips_per_s']:.3f} "
                    f"| {r['clips_per_s'] / r.get('alone_around', {}).get('clips_per_s', one):.2f}× "
                    f"| {r['clips_per_s'] / seq['clips_per_s']:.2f}× | {to_batch} "
                    f"| {r['latency_p50_s']:.2f} / {r['latency_p90_s']:.2f} s | {r['peak_batch_size'] or 1} "
                    f"| {mark(r['same_text'])} | {100 * r['client_cpu_share']:.0f}% |"
                )
    under_load = ", ".join(
        f"{c} clients {v:.2f}×" for c, v in u["cpu_default"]["ratio_to_one_after_another"].items() if int(c) > 1
    )
    lines += [
        "",
        f"Target on a CPU, the default app under load ≥ {u['target_cpu_default']:.1f}× one after another: "
        f"{under_load} {mark(u['met'])}",
    ]
    return lines


def _megabytes(value: float | None) -> str:
    """A figure in MB, or a dash where the run that wrote results.json did not measure it."""
    return "–" if value is None else f"{value:.0f}"


def quantization_markdown(q: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"## Quantized and offloaded loading (~0.5B Llama-style, {q['new_tokens']} new tokens, greedy, one stream)",
        "",
        "Each configuration is a catalog entry loaded through the app's model manager in a process of its own; "
        "memory is that process's RSS after a generation (float32 safetensors are memory-mapped: file pages "
        "count once read). The processes generate in interleaved rounds; a ratio to float32 is the median of "
        f"the {q['rounds']} rounds' own ratios. First token: a one-token generation (prompt prefill included). "
        "After returning freed memory: the same process after garbage collection and glibc's malloc_trim, "
        "which the app runs after every load and unload.",
        "",
        "| configuration | runs in | memory after a generation (MB) | of it file-mapped | × float32 "
        "| after returning freed memory (MB) | tokens/s | × float32 | first token (s) | × float32 | load (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, v in q["variants"].items():
        if "error" in v:
            lines.append(f"| {name}: {v['note']} | failed to load: {v['error']} |" + " |" * 9)
            continue
        lines.append(
            f"| {name}: {v['note']} | {v['dtype']} on {v['device']} | {v['rss_after_generation_mb']:.0f} "
            f"| {v['file_mapped_mb']:.0f} | {v['memory_ratio']:.2f}× | {_megabytes(v.get('rss_after_trim_mb'))} "
            f"| {v['tokens_per_s']:.2f} "
            f"| {v['tokens_per_s_ratio']:.2f}× | {v['first_token']['median_s']:.2f} | {v['first_token_ratio']:.2f}× "
            f"| {v['load_s']:.1f} |"
        )
    return lines


def fair_share_markdown(f: dict[str, Any]) -> list[str]:
    """The "fair share" section: a second user's first token while one client floods the queue."""
    lines = [
        "",
        f"## A fair share for each user: one client sends {f['flood']} `/generate` at once, then a second user one",
        "",
        f"The flood from one gradio_client (one user), the second user through the page's protocol; {f['new_tokens']} "
        "new tokens a request. Ratio = the second user's time to first token under the flood / the same request alone "
        f"(median of rounds). With `max_requests_per_user: {f['per_user']}` the flood gets {f['per_user']} in and is told "
        "the rest are over its share; unset, all of them wait (users are served in turn either way).",
        "",
        "| catalog | flood answered / refused | first token alone | under the flood | ratio |",
        "|---|---|---|---|---|",
    ]
    for variant, name in (("limit", f"max_requests_per_user: {f['per_user']}"), ("no_limit", "no limit")):
        r = f[variant]
        lines.append(
            f"| {name} | {r['flood_answered']} / {r['flood_refused']} | {r['alone_ttft_s']:.2f} s "
            f"| {r['second_user_ttft_s']:.2f} s | {r['ratio']:.2f}× |"
        )
    lines += ["", f"Target ≤ {f['target_ratio']:.1f}× with the limit: {f['limit']['ratio']:.2f}× {mark(f['met'])}"]
    return lines


def fine_tune_markdown(f: dict[str, Any]) -> list[str]:
    """The "fine-tune" section: the tab's training steps per second against a bare Trainer's."""
    lines = [
        "",
        f"## Fine-tune: the tab's training against a bare `Trainer` ({f['model']}, {f['example']}, {f['rows']} rows, "
        f"{f['epochs']} epochs)",
        "",
        "Both in the benchmark's process, each in a thread of its own, on the same random-weight model, data, split "
        "and `TrainingArguments`, one training each per round, each first every other round: the tab's job (the "
        "live callback, evaluations and checkpoints, then the evaluation report and saving) and `Trainer` alone. "
        "Steps/s = steps / `trainer.train()`'s runtime; wall time = the tab's whole run, from loading the base model "
        "to the saved result (random weights learn nothing in so few steps: the accuracy is chance).",
        "",
        "| round | tab steps/s | bare Trainer steps/s | ratio | tab wall time | validation accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for number, (tab, bare, wall, accuracy) in enumerate(
        zip(f["tab_steps_per_s"], f["bare_steps_per_s"], f["tab_wall_s"], f["validation_accuracy"]), 1
    ):
        lines.append(f"| {number} | {tab:.2f} | {bare:.2f} | {tab / bare:.3f}× | {wall:.1f} s | {accuracy:.2f} |")
    lines += [
        "",
        f"Target ≥ {f['target_ratio']:.2f}× (median of the rounds' ratios): {f['ratio_steps_per_s']:.3f}× "
        f"{mark(f['met'])}; the tab's wall time, median: {f['tab_wall_median_s']:.1f} s.",
    ]
    return lines


def plot_many_users(results: dict[str, Any], path: Path) -> None:
    """Aggregate tokens/s and TTFT p90 against the number of clients (browser path)."""
    if "many_users" not in results:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    u = results["many_users"]
    fig, (rate, ttft) = plt.subplots(1, 2, figsize=(10, 4))
    for variant, label in (("batched", "batching on"), ("off", "max_batch_size: 1")):
        levels = u[variant]["browser"]
        clients = [int(c) for c in levels]
        rate.plot(clients, [levels[c]["aggregate_tokens_per_s"] for c in levels], marker="o", label=label)
        ttft.plot(clients, [levels[c]["ttft_p90_s"] for c in levels], marker="o", label=label)
    bare = u["bare_padded_batch"]
    rate.plot(
        [int(c) for c in bare],
        [bare[c]["tokens_per_s"] for c in bare],
        marker="s",
        linestyle="--",
        label="bare padded batch (ceiling)",
    )
    ttft.axhline(
        u["targets"]["ttft_p90_at_16_s"], color="black", linestyle="dashed", linewidth=0.8, label="target at 16"
    )
    for axis, title, unit in ((rate, "aggregate tokens/s", "tokens/s"), (ttft, "time to first token, p90", "seconds")):
        axis.set_xscale("log", base=2)
        axis.set_xticks([1, 4, 16], ["1", "4", "16"])
        axis.set_xlabel("concurrent clients")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.legend()
    ttft.set_yscale("log")
    fig.suptitle(f"Many users: /generate, {u['new_tokens']} new tokens ({results['mode']} run, browser protocol)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(results["latency"])
    series = [
        ("ratio_app_bare", "app / bare pipeline"),
        ("ratio_app_minus_floor_bare", "(app − client floor) / bare"),
        ("ratio_app_plain_demo", "app / plain Gradio demo"),
    ]
    width = 0.8 / len(series)
    x = range(len(tasks))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for n, (key, label) in enumerate(series):
        ax.bar(
            [i - 0.4 + width * (n + 0.5) for i in x],
            [results["latency"][t][key] for t in tasks],
            width=width,
            label=label,
        )
    for i, task in enumerate(tasks):
        target = results["latency"][task]["target_app_bare"]
        if target:
            ax.hlines(target, i - 0.4, i - 0.4 + 2 * width, colors="black", linestyles="dashed")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(list(x), [TASK_NAMES[t].split(" (")[0] for t in tasks])
    ax.set_ylabel("median latency ratio (lower is better)")
    ax.set_title(f"Request latency ratios ({results['mode']} run; dashed: app/bare targets)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
