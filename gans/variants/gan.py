"""The plain two-network game: G maps noise to data, D scores data, and the
registered loss and regularizers say how each is updated."""
from __future__ import annotations

import torch

from gans.architectures import build_architecture
from gans.losses import build_loss
from gans.optim import build_optimizer
from gans.regularizers import build_regularizers
from gans.variants import VARIANTS, Variant


def grad_norm(module: torch.nn.Module) -> torch.Tensor:
    grads = [p.grad.detach().flatten() for p in module.parameters() if p.grad is not None]
    return torch.cat(grads).norm() if grads else torch.zeros(())


@VARIANTS.register("gan")
class GAN(Variant):
    reference = "Goodfellow et al. 2014"

    def build(self):
        cfg = self.cfg
        arch = build_architecture(cfg["architecture"]["name"], **cfg["architecture"]["params"])
        self.noise_dim = cfg["noise_dim"]
        self.generator = arch.generator(self.dataset.shape, self.noise_dim).to(self.device)
        self.discriminator = arch.discriminator(self.dataset.shape).to(self.device)
        self.loss = build_loss(cfg["loss"]["name"], **cfg["loss"]["params"])
        self.regularizers = build_regularizers(cfg["regularizers"])
        self.opt_d = build_optimizer(self.discriminator.parameters(), cfg["optimizer"], "d")
        self.opt_g = build_optimizer(self.generator.parameters(), cfg["optimizer"], "g")

    def modules(self):
        return {"generator": self.generator, "discriminator": self.discriminator, "opt_g": self.opt_g, "opt_d": self.opt_d}

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.noise_dim, device=self.device, generator=generator)

    def d_step(self, real, record=False):
        with torch.no_grad():
            fake = self.generator(self.noise(real.shape[0]))
        real_out, fake_out = self.discriminator(real), self.discriminator(fake)
        loss = self.loss.d_loss(real_out, fake_out)
        for reg in self.regularizers:
            penalty = reg.penalty(self.discriminator, real, fake)
            if penalty is not None:
                loss = loss + penalty
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        stats = {"d_loss": loss.detach()}
        if record:
            stats.update(
                d_grad_norm=grad_norm(self.discriminator),
                d_real=self.loss.d_score(real_out.detach()).mean(),
                d_fake=self.loss.d_score(fake_out.detach()).mean(),
            )
        self.opt_d.step()
        for reg in self.regularizers:
            reg.after_d_step(self.discriminator)
        return stats

    def g_step(self, batch_size, record=False):
        # D's weights get no gradient in G's step: only its input gradient is needed
        self.discriminator.requires_grad_(False)
        fake_out = self.discriminator(self.generator(self.noise(batch_size)))
        self.discriminator.requires_grad_(True)
        loss = self.loss.g_loss(fake_out)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        stats = {"g_loss": loss.detach()}
        if record:
            stats["g_grad_norm"] = grad_norm(self.generator)
        self.opt_g.step()
        return stats

    @torch.no_grad()
    def sample(self, n, generator=None):
        return self.generator(self.noise(n, generator))

    @torch.no_grad()
    def discriminate(self, x):
        return self.loss.d_score(self.discriminator(x))
