import { RecordingChat } from "./recordingChat.js";

/** A chat that, like a homeserver, answers a repeated transaction id with the first event and sends nothing new. */
export class DedupingChat extends RecordingChat {
  private readonly byTxn = new Map<string, string>();

  override async send(...args: Parameters<RecordingChat["send"]>) {
    const txn = args[2]?.transactionId;
    const seen = txn === undefined ? undefined : this.byTxn.get(txn);
    if (seen !== undefined) return { ok: true as const, value: seen };
    const sent = await super.send(...args);
    if (sent.ok && txn !== undefined) this.byTxn.set(txn, sent.value);
    return sent;
  }
}
