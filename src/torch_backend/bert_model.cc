// BERT and RoBERTa as Hugging Face transformers' eager implementation
// computes them in eval: src/transformers/models/bert/modeling_bert.py and
// src/transformers/models/roberta/modeling_roberta.py, v4.39 (commit
// 0022728). BertEmbeddings (word + token_type (the zeros buffer: type 0) +
// absolute position embeddings, LayerNorm); BertSelfAttention (query, key,
// value; matmul(q, k^T) / sqrt(head_dim) + the extended attention mask,
// which for BertModel's all-ones default mask is (1 - 1) * finfo.min, zeros;
// softmax; matmul with v); BertSelfOutput and BertOutput (dense, then
// LayerNorm(x + residual)); BertIntermediate (dense, exact erf GELU);
// the masked-LM head when the file has one: BertLMPredictionHead
// (cls.predictions.transform dense, gelu, LayerNorm; decoder tied to the
// word embeddings, + cls.predictions.bias) or RobertaLMHead (lm_head.dense,
// gelu, layer_norm, decoder). RobertaEmbeddings differ in the positions
// only: create_position_ids_from_input_ids, cumsum(ids != pad) * (ids !=
// pad) + pad, so they count from padding_idx + 1 and a padding token sits at
// padding_idx. With the head, the model is BertForMaskedLM /
// RobertaForMaskedLM and the output the MLM logits; their BertModel has no
// pooler (add_pooling_layer=False), so a BertForPreTraining checkpoint's
// pooler and NSP classifier stay unused. Without it, the model is BertModel
// and the output the last hidden state, or, when the file has BertPooler
// (dense on token 0, tanh), the tuple (last_hidden_state, pooler_output) it
// returns: every weight the forward runs reaches the output, so --train
// gives each a gradient. Dropout (a --train step only): BertEmbeddings'
// after its LayerNorm and BertSelfOutput's / BertOutput's after dense
// (hidden_dropout_prob), BertSelfAttention's on the softmax probabilities
// (attention_probs_dropout_prob).
#include <algorithm>
#include <limits>

#include "model_parts.h"
#include "op_counter.h"

namespace ptscope::torch_backend {
namespace {

// One encoder.layer.N: BertLayer's modules, by HF's names.
struct Layer {
  std::string name;
  Linear query, key, value, attention_dense, intermediate, output_dense;
  LayerNorm attention_norm, output_norm;
};

// BertLMPredictionHead or RobertaLMHead: transform, then the decoder.
struct MlmHead {
  std::string name, transform;  // "cls.predictions", "cls.predictions.transform"; "lm_head", "lm_head"
  Linear dense;
  LayerNorm norm;
  std::string decoder;
  at::Tensor decoder_weight, bias;
};

class Bert : public BuiltRunnable {
 public:
  Bert(const ModelBuild& b, std::unique_ptr<Weights> w) : BuiltRunnable(std::move(w)) {
    if (b.heads <= 0 || b.hidden % b.heads)
      throw BackendError("bert: the head count is unknown: give the folder's config.json (num_attention_heads)");
    if (w_->has("encoder.layer.0.attention.self.distance_embedding.weight"))
      throw BackendError("bert: relative position embeddings (position_embedding_type relative_key) are not built");
    E_ = b.hidden;
    H_ = b.heads;
    pad_ = b.padding_idx;
    p_hidden_ = b.dropout_hidden;
    p_attention_ = b.dropout_attention;
    double eps = b.norm_eps > 0 ? b.norm_eps : default_norm_eps(b.family);
    word_ = w_->param("embeddings.word_embeddings.weight", {b.vocab, E_});
    position_ = w_->param("embeddings.position_embeddings.weight", {b.positions, E_});
    type_ = w_->param("embeddings.token_type_embeddings.weight", {std::max<int64_t>(types(b), 1), E_});
    embeddings_norm_ = norm("embeddings.LayerNorm", eps);
    w_->keep_buffer("embeddings.position_ids");
    w_->keep_buffer("embeddings.token_type_ids");
    for (int64_t i = 0; i < b.layers; ++i) {
      std::string n = "encoder.layer." + std::to_string(i);
      Layer l;
      l.name = n;
      l.query = linear(n + ".attention.self.query", E_, E_);
      l.key = linear(n + ".attention.self.key", E_, E_);
      l.value = linear(n + ".attention.self.value", E_, E_);
      l.attention_dense = linear(n + ".attention.output.dense", E_, E_);
      l.attention_norm = norm(n + ".attention.output.LayerNorm", eps);
      l.intermediate = linear(n + ".intermediate.dense", b.ffn, E_);
      l.output_dense = linear(n + ".output.dense", E_, b.ffn);
      l.output_norm = norm(n + ".output.LayerNorm", eps);
      layers_.push_back(std::move(l));
    }
    if (w_->has("cls.predictions.bias"))
      head_ = mlm_head("cls.predictions", "cls.predictions.transform", "LayerNorm", b.vocab, eps);
    else if (w_->has("lm_head.dense.weight"))
      head_ = mlm_head("lm_head", "lm_head", "layer_norm", b.vocab, eps);
    else if (w_->has("pooler.dense.weight"))
      pooler_ = linear("pooler.dense", E_, E_);
  }

  std::vector<Argument> arguments(size_t given) const override {
    return one_argument(given, "forward(input_ids: Tensor)", {"input_ids", word_.size(0)});
  }

  c10::IValue run(const std::vector<c10::IValue>& inputs) override {
    const at::Tensor& ids = inputs.at(0).toTensor();
    if (ids.dim() != 2) throw BackendError("input_ids must be BATCHxSEQ, e.g. --input 1x128");
    int64_t B = ids.size(0), S = ids.size(1);
    int64_t most = position_.size(0) - (pad_ >= 0 ? pad_ + 1 : 0);  // RoBERTa's first position is pad + 1
    if (S > most)
      throw BackendError("bert has " + std::to_string(position_.size(0)) + " positions" +
                         (pad_ >= 0 ? " (RoBERTa's from " + std::to_string(pad_ + 1) + ")" : std::string()) +
                         ", room for " + std::to_string(most) + " tokens: --input asks for " + std::to_string(S));
    at::Tensor h = embeddings(ids);
    // BertModel.get_extended_attention_mask of the all-ones default mask.
    at::Tensor ones = at::ones({B, S}, h.options());
    at::Tensor mask = at::rsub(ones.unsqueeze(1).unsqueeze(2), 1.0) * lowest(h.scalar_type());  // Python's 1.0 - x
    {
      LayerScope s("encoder", type("Encoder").c_str());
      for (const Layer& l : layers_) h = layer(l, h, mask);
      s.out(h);
    }
    if (head_.dense.weight.defined()) return mlm(h);
    if (!pooler_.weight.defined()) return h;
    LayerScope s("pooler", type("Pooler").c_str());
    at::Tensor pooled = s.out(at::tanh(pooler_(h.select(1, 0))));
    return c10::ivalue::Tuple::create({h, pooled});
  }

 private:
  // The module's class as HF names it: BertLayer, or RobertaLayer for RoBERTa.
  std::string type(const char* part) const { return (pad_ >= 0 ? "Roberta" : "Bert") + std::string(part); }

  static double lowest(at::ScalarType t) {
    switch (t) {
      case at::kHalf: return static_cast<double>(std::numeric_limits<c10::Half>::lowest());
      case at::kBFloat16: return static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
      case at::kDouble: return std::numeric_limits<double>::lowest();
      default: return std::numeric_limits<float>::lowest();
    }
  }

  // type_vocab_size: the rows of the token type table (BERT 2, RoBERTa 1).
  static int64_t types(const ModelBuild& b) {
    for (const ModelTensor& t : b.tensors)
      if (t.name == "embeddings.token_type_embeddings.weight" && !t.shape.empty()) return t.shape[0];
    return 0;
  }

  Linear linear(const std::string& name, int64_t out, int64_t in) {
    return {name, w_->param(name + ".weight", {out, in}), w_->param(name + ".bias", {out})};
  }
  LayerNorm norm(const std::string& name, double eps) {
    return {name, w_->param(name + ".weight", {E_}), w_->param(name + ".bias", {E_}), eps};
  }

  MlmHead mlm_head(const std::string& name, const std::string& transform, const char* norm_name, int64_t vocab,
                   double eps) {
    MlmHead m;
    m.name = name;
    m.transform = transform;
    m.dense = linear(transform + ".dense", E_, E_);
    m.norm = norm(transform + "." + norm_name, eps);
    m.decoder = name + ".decoder";
    // The decoder's weight is the word embeddings' (tied); its bias is the
    // head's own `bias` (decoder.bias, when saved, views the same bytes).
    m.decoder_weight = w_->has(m.decoder + ".weight") ? w_->param(m.decoder + ".weight", {vocab, E_}) : word_;
    m.bias = w_->param(name + ".bias", {vocab});
    if (w_->has(m.decoder + ".bias")) w_->param(m.decoder + ".bias", {vocab});
    return m;
  }

  at::Tensor embeddings(const at::Tensor& ids) const {
    LayerScope s("embeddings", type("Embeddings").c_str());
    int64_t S = ids.size(1);
    at::Tensor positions;
    if (pad_ >= 0) {  // create_position_ids_from_input_ids
      at::Tensor not_pad = ids.ne(pad_).to(at::kInt);
      positions = (at::cumsum(not_pad, 1).to(at::kInt) * not_pad).to(at::kLong) + pad_;
    } else {
      positions = at::arange(S, ids.options()).unsqueeze(0);
    }
    at::Tensor types = at::zeros(ids.sizes(), ids.options());  // BertEmbeddings' token_type_ids buffer
    at::Tensor words, typed, placed;
    {
      LayerScope e("embeddings.word_embeddings", "Embedding", {word_});
      words = e.out(at::embedding(word_, ids));
    }
    {
      LayerScope e("embeddings.token_type_embeddings", "Embedding", {type_});
      typed = e.out(at::embedding(type_, types));
    }
    at::Tensor h = words + typed;
    {
      LayerScope e("embeddings.position_embeddings", "Embedding", {position_});
      placed = e.out(at::embedding(position_, positions));
    }
    h = h + placed;
    return s.out(dropout(embeddings_norm_(h), p_hidden_));
  }

  at::Tensor self_attention(const Layer& l, const at::Tensor& x, const at::Tensor& mask) const {
    LayerScope s(l.name + ".attention.self", type("SelfAttention").c_str());
    int64_t B = x.size(0), S = x.size(1), D = E_ / H_;
    auto heads = [&](const at::Tensor& t) { return t.view({B, S, H_, D}).permute({0, 2, 1, 3}); };
    at::Tensor q = heads(l.query(x)), k = heads(l.key(x)), v = heads(l.value(x));
    at::Tensor w = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(D));
    w = dropout(at::softmax(w + mask, -1), p_attention_);
    return s.out(at::matmul(w, v).permute({0, 2, 1, 3}).contiguous().view({B, S, E_}));
  }

  at::Tensor layer(const Layer& l, const at::Tensor& h, const at::Tensor& mask) const {
    LayerScope s(l.name, type("Layer").c_str());
    at::Tensor attended;
    {
      LayerScope a(l.name + ".attention", type("Attention").c_str());
      at::Tensor context = self_attention(l, h, mask);
      LayerScope o(l.name + ".attention.output", type("SelfOutput").c_str());
      attended = a.out(o.out(l.attention_norm(dropout(l.attention_dense(context), p_hidden_) + h)));
    }
    at::Tensor inner;
    {
      LayerScope i(l.name + ".intermediate", type("Intermediate").c_str());
      inner = i.out(at::gelu(l.intermediate(attended)));
    }
    LayerScope o(l.name + ".output", type("Output").c_str());
    return s.out(o.out(l.output_norm(dropout(l.output_dense(inner), p_hidden_) + attended)));
  }

  at::Tensor mlm(const at::Tensor& h) const {
    LayerScope s(head_.name, head_.name == "lm_head" ? "RobertaLMHead" : "BertLMPredictionHead");
    at::Tensor x;
    if (head_.transform != head_.name) {
      LayerScope t(head_.transform, "BertPredictionHeadTransform");
      x = t.out(head_.norm(at::gelu(head_.dense(h))));
    } else {
      x = head_.norm(at::gelu(head_.dense(h)));
    }
    LayerScope d(head_.decoder, "Linear", {head_.decoder_weight, head_.bias});
    return s.out(d.out(at::linear(x, head_.decoder_weight, head_.bias)));
  }

  int64_t E_ = 0, H_ = 0, pad_ = -1;
  double p_hidden_ = 0, p_attention_ = 0;
  at::Tensor word_, position_, type_;
  LayerNorm embeddings_norm_;
  std::vector<Layer> layers_;
  Linear pooler_;
  MlmHead head_;
};

}  // namespace

std::unique_ptr<Runnable> build_bert(const ModelBuild& b, std::unique_ptr<Weights> w) {
  return std::make_unique<Bert>(b, std::move(w));
}

}  // namespace ptscope::torch_backend
