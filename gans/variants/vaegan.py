"""VAE-GAN (Larsen et al., 2016): an encoder E, the generator as decoder, and a
discriminator whose trunk features measure reconstruction.

  E minimises  kl_weight * KL(q(z|x) || N(0, I)) + L_rec
  G minimises  rec_weight * L_rec + the registered loss's G term on G(z) and G(E(x))
  D minimises  the registered loss's D term, with G(z) and G(E(x)) both as fakes
where L_rec is half the squared distance between D's trunk features of x and of
its reconstruction G(E(x)): a learned similarity instead of pixel error.

``fake_terms`` says how the two kinds of fake count:
  paper        each with weight 1, as the paper's L_GAN = log D(x) + log(1 - D(G(z)))
               + log(1 - D(G(E(x)))) (Larsen et al. 2016, Eq. 10), in D's loss and G's
  averaged     pooled into one fake term of weight 1 (the authors' AEGAN class with
               both kinds on: real and fake halves weighted equally)
  sample-only  only G(z) is shown to D (every released experiment script)."""

from __future__ import annotations

import torch

from gans.optim import build_optimizer
from gans.space import log_uniform
from gans.variants import VARIANTS
from gans.variants.gan import GAN, grad_norm


@VARIANTS.register("vaegan")
class VAEGAN(GAN):
    reference = "Larsen et al. 2016"
    stackable = False  # its networks or steps are written for one seed
    FAKE_TERMS = ("paper", "averaged", "sample-only")
    param_schema = {"rec_weight": {"minimum": 0}, "kl_weight": {"minimum": 0}, "fake_terms": {"enum": list(FAKE_TERMS)}}
    defaults = {"rec_weight": 1.0, "kl_weight": 1.0, "fake_terms": "paper"}
    # the authors' code weighs reconstruction against the GAN term by 1e-6 to 1e-2; 1 is the set-up here
    search_space = {"variant.params.rec_weight": log_uniform(1e-6, 1.0)}

    def build(self):
        super().build()
        # E: the discriminator architecture with a head giving mean and log-variance
        self.encoder = self.arch.discriminator(self.dataset.shape, out_dim=2 * self.noise_dim).to(self.device)
        self.opt_e = build_optimizer(self.encoder.parameters(), self.cfg["optimizer"], "g", self.planned_updates("g"))

    def modules(self):
        return {**super().modules(), "encoder": self.encoder, "opt_e": self.opt_e}

    def generator_modules(self):
        return ["generator", "encoder"]

    def encode(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def reconstruct(self, x, sample=True):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if sample else mu
        return self.generator(z), mu, logvar

    def extra_fakes(self, real):
        if self.fake_terms == "sample-only":
            return None
        with torch.no_grad():
            return self.reconstruct(real)[0]

    def d_adversarial(self, real_out, fake_out, more_out=None):
        if self.fake_terms != "paper" or more_out is None:
            return super().d_adversarial(real_out, fake_out, more_out)
        # each fake term with weight 1 (every registered loss D can take is a term on real
        # outputs plus one on fake outputs): the second term's real outputs are detached,
        # so its gradient is the reconstructions' term alone (its value counts the real
        # term again, a constant for D's update)
        return self.loss.d_loss(real_out, fake_out) + self.loss.d_loss(real_out.detach(), more_out)

    def g_fake_terms(self, fake_out, rec_out):
        """G's adversarial term on G(z) and G(E(x)), weighted as ``fake_terms`` says."""
        if self.fake_terms == "paper":
            return self.loss.g_loss(fake_out) + self.loss.g_loss(rec_out)
        if self.fake_terms == "averaged":
            return self.loss.g_loss(torch.cat([fake_out, rec_out]))
        return self.loss.g_loss(fake_out)

    def g_step(self, batch_size, record=False):
        x = self.last_real
        z, info = self.latent(batch_size)
        fake = self.generate(z, info)
        x_rec, mu, logvar = self.reconstruct(x)
        self.discriminator.requires_grad_(False)
        fake_out, rec_out = self.d_outputs(self.d_inputs(torch.cat([fake, x_rec]))).split([len(fake), len(x_rec)])
        # a Gaussian log-likelihood in feature space: summed over features (a mean
        # would let the KL term win and collapse the posterior, measured)
        rec = (
            0.5 * ((self.discriminator.features(x) - self.discriminator.features(x_rec)) ** 2).flatten(1).sum(1).mean()
        )
        self.discriminator.requires_grad_(True)
        kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1).mean()
        g_total = self.g_fake_terms(fake_out, rec_out) + self.rec_weight * rec
        e_total = self.kl_weight * kl + rec
        # each player gets the gradient of its own objective only
        g_params, e_params = list(self.generator.parameters()), list(self.encoder.parameters())
        g_grads = torch.autograd.grad(g_total, g_params, retain_graph=True)
        e_grads = torch.autograd.grad(e_total, e_params)
        for params, grads in ((g_params, g_grads), (e_params, e_grads)):
            for p, g in zip(params, grads, strict=True):
                p.grad = g
        stats = {"g_loss": g_total.detach(), "reconstruction": rec.detach(), "kl": kl.detach()}
        if record:
            stats["g_grad_norm"] = grad_norm(self.generator)
        self.opt_g.step()
        self.opt_e.step()
        return stats
