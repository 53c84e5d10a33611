# FlowRep's demo page: serves app.py on 0.0.0.0:7860 as a non-root user.
#   docker build -t flowrep . && docker run --rm -p 7860:7860 flowrep
# torch comes first from PyTorch's CPU wheel index: PyPI's build of torch==2.13.0 pulls GBs of CUDA.
# The pinned requirements then find 2.13.0+cpu already installed. (No Docker engine was available
# where this was written: the file is kept minimal and has not been built.)
FROM python:3.11-slim

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860

RUN useradd --create-home --uid 1000 flowrep
WORKDIR /app
COPY requirements.txt .
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0 && pip install -r requirements.txt
COPY --chown=flowrep:flowrep app.py ./
COPY --chown=flowrep:flowrep flowrep/ flowrep/
COPY --chown=flowrep:flowrep weights/ weights/
COPY --chown=flowrep:flowrep examples/ examples/

USER flowrep
EXPOSE 7860
CMD ["python", "app.py"]
